using System.Buffers;
using System.Text;
using FastCgi.Protocol;

namespace FastCgi.Tool;

/// <summary>What one FastCGI request sends: role, FCGI_KEEP_CONN, the PARAMS pairs, and the STDIN and DATA streams.</summary>
internal sealed class FastCgiRequestSpec
{
    public Role Role { get; init; } = Role.Responder;

    public bool KeepConnection { get; init; }

    public IReadOnlyList<KeyValuePair<string, string>> Params { get; init; } = [];

    /// <summary>The request body (FCGI_STDIN); none sends just the empty record that ends the stream.</summary>
    public Stream? Body { get; init; }

    /// <summary>The filter's file (FCGI_DATA); sent, after STDIN, only for <see cref="Role.Filter"/>.</summary>
    public Stream? Data { get; init; }

    /// <summary>BEGIN_REQUEST and the whole PARAMS stream, ended.</summary>
    public static void WriteHead(IBufferWriter<byte> output, ushort requestId, Role role, bool keepConnection, IEnumerable<KeyValuePair<string, string>> parameters)
    {
        Span<byte> begin = stackalloc byte[BeginRequestBody.Length];
        new BeginRequestBody(role, keepConnection ? FastCgiConstants.KeepConnection : (byte)0).WriteTo(begin);
        RecordWriter.WriteRecord(output, RecordType.BeginRequest, requestId, begin);
        RecordWriter.WriteStream(output, RecordType.Params, requestId, EncodePairs(parameters));
        RecordWriter.WriteEndOfStream(output, RecordType.Params, requestId);
    }

    /// <summary>Name-value pairs (spec 3.4), UTF-8.</summary>
    public static byte[] EncodePairs(IEnumerable<KeyValuePair<string, string>> pairs)
    {
        var buffer = new ArrayBufferWriter<byte>();
        foreach (var (name, value) in pairs)
        {
            NameValueWriter.Write(buffer, Encoding.UTF8.GetBytes(name), Encoding.UTF8.GetBytes(value));
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Sends the whole request: head, STDIN from <see cref="Body"/>, then DATA for a filter.</summary>
    public async Task SendAsync(RecordChannel channel, ushort requestId, CancellationToken cancellationToken)
    {
        await SendHeadAsync(channel, requestId, cancellationToken).ConfigureAwait(false);
        await SendBodyAsync(channel, requestId, cancellationToken, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>BEGIN_REQUEST and the whole PARAMS stream, in one send.</summary>
    public async Task SendHeadAsync(RecordChannel channel, ushort requestId, CancellationToken cancellationToken)
    {
        var head = new ArrayBufferWriter<byte>();
        WriteHead(head, requestId, Role, KeepConnection, Params);
        await channel.SendAsync(head.WrittenMemory, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// STDIN from <see cref="Body"/>, then DATA for a filter. <paramref name="readStop"/> stops a read of the streams,
    /// <paramref name="sendStop"/> a send, which may leave a record cut short.
    /// </summary>
    public async Task SendBodyAsync(RecordChannel channel, ushort requestId, CancellationToken readStop, CancellationToken sendStop)
    {
        // The authorizer role has no body; an empty STDIN is still sent, as lighttpd and Apache do (spec 6.3).
        await SendStreamAsync(channel, RecordType.Stdin, requestId, Role == Role.Authorizer ? null : Body, readStop, sendStop).ConfigureAwait(false);
        if (Role == Role.Filter)
        {
            await SendStreamAsync(channel, RecordType.Data, requestId, Data, readStop, sendStop).ConfigureAwait(false);
        }
    }

    /// <summary>Copies <paramref name="source"/> as stream records of 65528 bytes (no padding needed), then ends the stream.</summary>
    private static async Task SendStreamAsync(RecordChannel channel, RecordType type, ushort requestId, Stream? source, CancellationToken readStop, CancellationToken sendStop)
    {
        const int Chunk = 65528;
        var records = new ArrayBufferWriter<byte>(Chunk + FastCgiConstants.HeaderLength);
        if (source is not null)
        {
            var data = new byte[Chunk];
            int read;
            while ((read = await source.ReadAsync(data, readStop).ConfigureAwait(false)) > 0)
            {
                records.ResetWrittenCount();
                RecordWriter.WriteRecord(records, type, requestId, data.AsSpan(0, read));
                await channel.SendAsync(records.WrittenMemory, sendStop).ConfigureAwait(false);
            }
        }

        records.ResetWrittenCount();
        RecordWriter.WriteEndOfStream(records, type, requestId);
        await channel.SendAsync(records.WrittenMemory, sendStop).ConfigureAwait(false);
    }
}
