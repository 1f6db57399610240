using System.Buffers;
using System.Diagnostics;
using System.Text;

namespace FastCgi.Protocol;

/// <summary>Writes records (spec 3.3) into an <see cref="IBufferWriter{T}"/>, padded to a multiple of 8 bytes.</summary>
internal static class RecordWriter
{
    /// <summary>The most padding this writer adds: up to the next multiple of 8.</summary>
    public const int MaxPaddingLength = 7;

    /// <summary>The most bytes a record adds around its content: the header plus <see cref="MaxPaddingLength"/>.</summary>
    public const int MaxRecordOverhead = FastCgiConstants.HeaderLength + MaxPaddingLength;

    /// <summary>
    /// The padding after <paramref name="contentLength"/> bytes of content. Spec 3.3 recommends records on
    /// 8-byte boundaries; the header is 8 bytes, so the content is padded to a multiple of 8.
    /// </summary>
    public static int PaddingFor(int contentLength)
    {
        Debug.Assert(contentLength >= 0, "Content length is never negative");
        return (8 - (contentLength % 8)) % 8;
    }

    /// <summary>Writes one record: header, <paramref name="content"/>, zero padding.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="content"/> is longer than 65535 bytes.</exception>
    public static void WriteRecord(IBufferWriter<byte> output, RecordType type, ushort requestId, ReadOnlySpan<byte> content)
    {
        // Spec 3.3: contentLength is two bytes; longer data goes through WriteStream.
        ArgumentOutOfRangeException.ThrowIfGreaterThan(content.Length, FastCgiConstants.MaxContentLength);

        var padding = PaddingFor(content.Length);
        var header = new RecordHeader(type, requestId, (ushort)content.Length, (byte)padding);
        var total = header.TotalLength;
        var destination = output.GetSpan(total);
        if (destination.Length < total)
        {
            WriteInPieces(output, header, content);
            return;
        }

        header.WriteTo(destination);
        content.CopyTo(destination[FastCgiConstants.HeaderLength..]);
        destination.Slice(FastCgiConstants.HeaderLength + content.Length, padding).Clear();
        output.Advance(total);
    }

    /// <summary>
    /// Writes <paramref name="data"/> as stream records (spec 3.3) of at most 65535 content bytes each. The stream
    /// is not ended (see <see cref="WriteEndOfStream"/>), and empty data writes nothing, since an empty record would end it.
    /// </summary>
    public static void WriteStream(IBufferWriter<byte> output, RecordType type, ushort requestId, ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            var length = Math.Min(data.Length, FastCgiConstants.MaxContentLength);
            WriteRecord(output, type, requestId, data[..length]);
            data = data[length..];
        }
    }

    /// <summary>Writes the empty record that ends a stream (spec 3.3).</summary>
    public static void WriteEndOfStream(IBufferWriter<byte> output, RecordType type, ushort requestId)
    {
        WriteRecord(output, type, requestId, []);
    }

    /// <summary>Writes <c>FCGI_END_REQUEST</c> (spec 5.5).</summary>
    public static void WriteEndRequest(IBufferWriter<byte> output, ushort requestId, int appStatus, ProtocolStatus status)
    {
        Span<byte> body = stackalloc byte[EndRequestBody.Length];
        new EndRequestBody(appStatus, status).WriteTo(body);
        WriteRecord(output, RecordType.EndRequest, requestId, body);
    }

    /// <summary>Writes <c>FCGI_UNKNOWN_TYPE</c> (spec 4.2): the type byte the application does not know and 7 reserved bytes.</summary>
    public static void WriteUnknownType(IBufferWriter<byte> output, byte unknownType)
    {
        Span<byte> body = stackalloc byte[8];
        body.Clear();
        body[0] = unknownType;
        WriteRecord(output, RecordType.UnknownType, FastCgiConstants.NullRequestId, body);
    }

    /// <summary>
    /// Writes <c>FCGI_GET_VALUES_RESULT</c> (spec 4.1): one management record of name-value pairs, encoded as UTF-8.
    /// </summary>
    /// <exception cref="ArgumentException">The pairs do not fit one record (65535 bytes).</exception>
    public static void WriteGetValuesResult(IBufferWriter<byte> output, IEnumerable<KeyValuePair<string, string>> values)
    {
        // The pairs are encoded into a pooled buffer first so the sequence is enumerated once; the answer to
        // GET_VALUES is rare and small, so the extra copy does not matter.
        var buffer = ArrayPool<byte>.Shared.Rent(FastCgiConstants.MaxContentLength);
        try
        {
            var length = 0;
            foreach (var (name, value) in values)
            {
                var nameLength = Encoding.UTF8.GetByteCount(name);
                var valueLength = Encoding.UTF8.GetByteCount(value);
                var size = NameValueWriter.GetEncodedSize(nameLength, valueLength);
                if (size > FastCgiConstants.MaxContentLength - length)
                {
                    throw new ArgumentException("The values do not fit one FCGI_GET_VALUES_RESULT record of 65535 bytes.", nameof(values));
                }

                var destination = buffer.AsSpan(length, size);
                var used = NameValueWriter.WriteLength(destination, nameLength);
                used += NameValueWriter.WriteLength(destination[used..], valueLength);
                used += Encoding.UTF8.GetBytes(name, destination[used..]);
                used += Encoding.UTF8.GetBytes(value, destination[used..]);
                Debug.Assert(used == size, "GetEncodedSize matches what is written");
                length += size;
            }

            WriteRecord(output, RecordType.GetValuesResult, FastCgiConstants.NullRequestId, buffer.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    // The writer gave less than it was asked for (IBufferWriter implementations may cap their spans):
    // write the parts one after another, each through BuffersExtensions.Write, which copes with short spans.
    private static void WriteInPieces(IBufferWriter<byte> output, RecordHeader header, ReadOnlySpan<byte> content)
    {
        Span<byte> bytes = stackalloc byte[FastCgiConstants.HeaderLength + MaxPaddingLength];
        header.WriteTo(bytes);
        output.Write(bytes[..FastCgiConstants.HeaderLength]);
        output.Write(content);
        bytes.Clear();
        output.Write(bytes[..header.PaddingLength]);
    }
}
