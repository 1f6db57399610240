using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace FastCgi.Testing;

/// <summary>One record as the web server's side saw it.</summary>
public sealed record FcgiRecord(byte Version, byte Type, ushort RequestId, byte[] Content, byte Padding)
{
    /// <summary>The record as text: its type, request id and content, for messages.</summary>
    public override string ToString() => $"type {Type}, request {RequestId}, {Content.Length} bytes: {Encoding.Latin1.GetString(Content)}";
}

/// <summary>
/// The web server's side of the FastCGI wire format, written independently of the library's codec (byte layouts from
/// spec 3.3, 3.4, 5.1) so the two check each other: the one record builder and the one record parser of the tests.
/// </summary>
public static class FcgiRecords
{
    public const byte BeginRequest = 1, AbortRequest = 2, EndRequest = 3, Params = 4, Stdin = 5, Stdout = 6, Stderr = 7, Data = 8, GetValues = 9, GetValuesResult = 10, UnknownType = 11;

    public const ushort Responder = 1, Authorizer = 2, Filter = 3;

    /// <summary>The length of a record header.</summary>
    public const int HeaderLength = 8;

    /// <summary>
    /// A record (spec 3.3): version, type, request id and content length big-endian, padding length, reserved; the
    /// padding is what aligns the record to 8 bytes unless given.
    /// </summary>
    public static byte[] Record(byte type, ushort requestId, ReadOnlySpan<byte> content, int? padding = null, byte version = 1, byte reserved = 0, byte paddingByte = 0)
    {
        var pad = padding ?? (8 - content.Length % 8) % 8;
        var bytes = new byte[HeaderLength + content.Length + pad];
        bytes[0] = version;
        bytes[1] = type;
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(2), requestId);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(4), (ushort)content.Length);
        bytes[6] = (byte)pad;
        bytes[7] = reserved;
        content.CopyTo(bytes.AsSpan(HeaderLength));
        bytes.AsSpan(HeaderLength + content.Length).Fill(paddingByte);
        return bytes;
    }

    public static byte[] Begin(ushort requestId, ushort role = Responder, bool keepConnection = true) =>
        Record(BeginRequest, requestId, [(byte)(role >> 8), (byte)role, (byte)(keepConnection ? 1 : 0), 0, 0, 0, 0, 0]);

    /// <summary>An END_REQUEST body (spec 5.5): the application status and the protocol status.</summary>
    public static byte[] EndRequestBody(int appStatus = 0, byte protocolStatus = 0)
    {
        var body = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(body, appStatus);
        body[4] = protocolStatus;
        return body;
    }

    public static byte[] NameValues(IEnumerable<KeyValuePair<string, string>> pairs)
    {
        var output = new MemoryStream();
        foreach (var (name, value) in pairs)
        {
            var n = Encoding.UTF8.GetBytes(name);
            var v = Encoding.UTF8.GetBytes(value);
            WriteLength(output, n.Length);
            WriteLength(output, v.Length);
            output.Write(n);
            output.Write(v);
        }

        return output.ToArray();
    }

    /// <summary>A whole stream: records of at most 65535 bytes, then the empty one.</summary>
    public static byte[] Stream(byte type, ushort requestId, ReadOnlySpan<byte> data)
    {
        var output = new MemoryStream();
        for (var at = 0; at < data.Length; at += 65535)
        {
            output.Write(Record(type, requestId, data.Slice(at, Math.Min(65535, data.Length - at))));
        }

        output.Write(Record(type, requestId, []));
        return output.ToArray();
    }

    /// <summary>The records of a complete request: BEGIN, PARAMS, STDIN (when given).</summary>
    public static byte[] Request(ushort requestId, IEnumerable<KeyValuePair<string, string>> environ, byte[]? stdin = null, ushort role = Responder, bool keepConnection = true)
    {
        var output = new MemoryStream();
        output.Write(Begin(requestId, role, keepConnection));
        output.Write(Stream(Params, requestId, NameValues(environ)));
        if (stdin is not null)
        {
            output.Write(Stream(Stdin, requestId, stdin));
        }

        return output.ToArray();
    }

    /// <summary>
    /// <paramref name="count"/> requests interleaved on one connection: every BEGIN_REQUEST, then the first half of
    /// every PARAMS stream, then in reverse order the second halves, each with its empty PARAMS and STDIN records.
    /// </summary>
    public static byte[] Interleaved(ushort count, Func<ushort, IEnumerable<KeyValuePair<string, string>>> environ)
    {
        var all = new MemoryStream();
        var streams = new byte[count + 1][];
        for (ushort id = 1; id <= count; id++)
        {
            all.Write(Begin(id));
            streams[id] = NameValues(environ(id));
        }

        for (ushort id = 1; id <= count; id++)
        {
            all.Write(Record(Params, id, streams[id].AsSpan(0, streams[id].Length / 2)));
        }

        for (var id = count; id >= 1; id--)
        {
            all.Write(Record(Params, id, streams[id].AsSpan(streams[id].Length / 2)));
            all.Write(Record(Params, id, []));
            all.Write(Record(Stdin, id, []));
        }

        return all.ToArray();
    }

    /// <summary>Protocol violations a web server could send, by name: each must close the connection it came on.</summary>
    public static IEnumerable<(string What, byte[] Bytes)> ProtocolViolations() =>
    [
        ("wrong version byte", Record(Params, 1, [], version: 2)),
        ("name-value length past the record", [.. Begin(1), .. Record(Params, 1, [5, 200, (byte)'a']), .. Record(Params, 1, [])]),
        ("name-value length 2^31-1", [.. Begin(1), .. Record(Params, 1, [0xFF, 0xFF, 0xFF, 0xFF, 1, (byte)'a']), .. Record(Params, 1, [])]),
        ("truncated name-value length", [.. Begin(1), .. Record(Params, 1, [0x80, 0]), .. Record(Params, 1, [])]),
        ("BEGIN_REQUEST body too short", Record(BeginRequest, 1, [0, 1])),
        ("request id reused while active", [.. Begin(1), .. Begin(1)]),
    ];

    /// <summary>
    /// Reads a record header at the start of <paramref name="buffer"/> without allocating: false until the whole
    /// record (header, content, padding) is there.
    /// </summary>
    public static bool TryReadHeader(in ReadOnlySequence<byte> buffer, out byte type, out ushort requestId, out int contentLength, out int totalLength)
    {
        type = 0;
        requestId = 0;
        contentLength = 0;
        totalLength = 0;
        if (buffer.Length < HeaderLength)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[HeaderLength];
        buffer.Slice(0, HeaderLength).CopyTo(header);
        contentLength = BinaryPrimitives.ReadUInt16BigEndian(header[4..]);
        var total = HeaderLength + contentLength + header[6];
        if (buffer.Length < total)
        {
            return false;
        }

        type = header[1];
        requestId = BinaryPrimitives.ReadUInt16BigEndian(header[2..]);
        totalLength = total;
        return true;
    }

    /// <summary>Takes the whole record at the start of <paramref name="buffer"/>, if there is one, and slices it off.</summary>
    public static bool TryTake(ref ReadOnlySequence<byte> buffer, out FcgiRecord record)
    {
        if (!TryReadHeader(buffer, out var type, out var requestId, out var length, out var total))
        {
            record = null!;
            return false;
        }

        Span<byte> version = stackalloc byte[1];
        buffer.Slice(0, 1).CopyTo(version);
        record = new FcgiRecord(version[0], type, requestId, buffer.Slice(HeaderLength, length).ToArray(), (byte)(total - HeaderLength - length));
        buffer = buffer.Slice(total);
        return true;
    }

    private static void WriteLength(Stream output, int length)
    {
        if (length < 128)
        {
            output.WriteByte((byte)length);
            return;
        }

        Span<byte> four = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(four, (uint)length | 0x80000000u);
        output.Write(four);
    }
}
