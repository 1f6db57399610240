using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace FastCgi.Tests.Support;

/// <summary>One record as the test client saw it.</summary>
internal sealed record FcgiRecord(byte Version, byte Type, ushort RequestId, byte[] Content, byte Padding);

/// <summary>A FastCGI response collected until END_REQUEST.</summary>
internal sealed record FcgiResponse(byte[] Stdout, string Stderr, int AppStatus, byte ProtocolStatus, int StdoutRecords)
{
    public string Text => Encoding.UTF8.GetString(Stdout);

    /// <summary>The CGI head (before the blank line).</summary>
    public string Head => Text.Split("\r\n\r\n", 2)[0];

    /// <summary>The body bytes after the blank line.</summary>
    public byte[] Body
    {
        get
        {
            var index = Stdout.AsSpan().IndexOf("\r\n\r\n"u8);
            return index < 0 ? [] : Stdout[(index + 4)..];
        }
    }

    public string BodyText => Encoding.UTF8.GetString(Body);

    public string? Header(string name) => Head.Split("\r\n")
        .Select(line => line.Split(": ", 2))
        .Where(parts => parts.Length == 2 && parts[0].Equals(name, StringComparison.OrdinalIgnoreCase))
        .Select(parts => parts[1])
        .FirstOrDefault();
}

/// <summary>
/// A web server's side of FastCGI, written independently of the library's codec (byte layouts from spec 3.3, 3.4,
/// 5.1) so the two check each other.
/// </summary>
internal sealed class FcgiTestClient : IAsyncDisposable
{
    public const byte BeginRequest = 1, AbortRequest = 2, EndRequest = 3, Params = 4, Stdin = 5, Stdout = 6, Stderr = 7, Data = 8, GetValues = 9, GetValuesResult = 10, UnknownType = 11;

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly Dictionary<ushort, List<FcgiRecord>> _pending = [];

    private FcgiTestClient(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
    }

    public static TimeSpan Timeout { get; } = TimeSpan.FromSeconds(30);

    public static async Task<FcgiTestClient> ConnectAsync(EndPoint endPoint)
    {
        var socket = endPoint is UnixDomainSocketEndPoint
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(endPoint);
        return new FcgiTestClient(socket);
    }

    public static byte[] Record(byte type, ushort requestId, ReadOnlySpan<byte> content, int? padding = null, byte version = 1)
    {
        var pad = padding ?? (8 - content.Length % 8) % 8;
        var bytes = new byte[8 + content.Length + pad];
        bytes[0] = version;
        bytes[1] = type;
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(2), requestId);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(4), (ushort)content.Length);
        bytes[6] = (byte)pad;
        content.CopyTo(bytes.AsSpan(8));
        return bytes;
    }

    public static byte[] Begin(ushort requestId, ushort role = 1, bool keepConnection = true) =>
        Record(BeginRequest, requestId, [(byte)(role >> 8), (byte)role, (byte)(keepConnection ? 1 : 0), 0, 0, 0, 0, 0]);

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
    public static byte[] Request(ushort requestId, IDictionary<string, string> environ, byte[]? stdin = null, ushort role = 1, bool keepConnection = true)
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

    /// <summary>Typical responder parameters for a request to <paramref name="uri"/>.</summary>
    public static Dictionary<string, string> Environ(string uri, string method = "GET", string? contentType = null, long? contentLength = null, IDictionary<string, string>? extra = null)
    {
        var query = uri.Contains('?') ? uri.Split('?', 2)[1] : "";
        var environ = new Dictionary<string, string>
        {
            ["GATEWAY_INTERFACE"] = "CGI/1.1",
            ["SERVER_PROTOCOL"] = "HTTP/1.1",
            ["REQUEST_METHOD"] = method,
            ["REQUEST_URI"] = uri,
            ["QUERY_STRING"] = query,
            ["SCRIPT_NAME"] = uri.Split('?')[0],
            ["SERVER_NAME"] = "localhost",
            ["SERVER_PORT"] = "80",
            ["REMOTE_ADDR"] = "127.0.0.1",
        };
        if (contentType is not null)
        {
            environ["CONTENT_TYPE"] = contentType;
        }

        if (contentLength is not null)
        {
            environ["CONTENT_LENGTH"] = contentLength.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        foreach (var (name, value) in extra ?? new Dictionary<string, string>())
        {
            environ[name] = value;
        }

        return environ;
    }

    public async Task SendAsync(byte[] bytes) => await _stream.WriteAsync(bytes).AsTask().WaitAsync(Timeout);

    /// <summary>Sends a request and reads its response.</summary>
    public async Task<FcgiResponse> RequestAsync(ushort requestId, IDictionary<string, string> environ, byte[]? stdin = null, ushort role = 1, bool keepConnection = true)
    {
        await SendAsync(Request(requestId, environ, stdin ?? [], role, keepConnection));
        return await ReadResponseAsync(requestId);
    }

    /// <summary>The next record from the connection, or null when it closed.</summary>
    public async Task<FcgiRecord?> ReadRecordAsync(TimeSpan? timeout = null)
    {
        var header = new byte[8];
        if (!await ReadExactlyOrEndAsync(header, timeout ?? Timeout))
        {
            return null;
        }

        var length = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(4));
        var body = new byte[length + header[6]];
        if (!await ReadExactlyOrEndAsync(body, timeout ?? Timeout))
        {
            throw new EndOfStreamException("The connection closed inside a record.");
        }

        return new FcgiRecord(header[0], header[1], BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(2)), body[..length], header[6]);
    }

    /// <summary>Reads records (keeping those of other ids for later) until END_REQUEST of <paramref name="requestId"/>.</summary>
    public async Task<FcgiResponse> ReadResponseAsync(ushort requestId, TimeSpan? timeout = null)
    {
        var stdout = new MemoryStream();
        var stderr = new MemoryStream();
        var stdoutRecords = 0;
        if (_pending.Remove(requestId, out var early))
        {
            foreach (var record in early)
            {
                if (Collect(record, stdout, stderr, ref stdoutRecords) is { } done)
                {
                    return done;
                }
            }
        }

        while (true)
        {
            var record = await ReadRecordAsync(timeout) ?? throw new EndOfStreamException($"The connection closed before END_REQUEST of request {requestId}.");
            if (record.RequestId != requestId)
            {
                if (!_pending.TryGetValue(record.RequestId, out var list))
                {
                    _pending[record.RequestId] = list = [];
                }

                list.Add(record);
                continue;
            }

            if (Collect(record, stdout, stderr, ref stdoutRecords) is { } response)
            {
                return response;
            }
        }
    }

    /// <summary>
    /// Sends FCGI_GET_VALUES and waits for its result (keeping other records for later): the application answers
    /// management records in order, so everything sent before has been read and its requests begun.
    /// </summary>
    public async Task SyncAsync()
    {
        await SendAsync(Record(GetValues, 0, NameValues([new("FCGI_MPXS_CONNS", "")])));
        while (true)
        {
            var record = await ReadRecordAsync() ?? throw new EndOfStreamException("The connection closed before GET_VALUES_RESULT.");
            if (record.Type == GetValuesResult)
            {
                return;
            }

            if (!_pending.TryGetValue(record.RequestId, out var list))
            {
                _pending[record.RequestId] = list = [];
            }

            list.Add(record);
        }
    }

    /// <summary>
    /// Reads raw bytes until the connection ends (end of stream or a reset) and returns how many came, or throws
    /// once more than <paramref name="limit"/> came: the application never ended it.
    /// </summary>
    public async Task<long> ReadToEndAsync(long limit)
    {
        var buffer = new byte[64 * 1024];
        long total = 0;
        try
        {
            int read;
            while ((read = await _stream.ReadAsync(buffer).AsTask().WaitAsync(Timeout)) > 0)
            {
                total += read;
                if (total > limit)
                {
                    throw new InvalidDataException($"More than {limit} bytes came and the connection is still open.");
                }
            }
        }
        catch (IOException exception) when (exception.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionReset })
        {
            // An abortive close: the connection ended just the same.
        }

        return total;
    }

    /// <summary>Whether the application closed the connection (reads end) within <paramref name="timeout"/>.</summary>
    public async Task<bool> IsClosedAsync(TimeSpan timeout)
    {
        try
        {
            return await ReadRecordAsync(timeout) is null;
        }
        catch (Exception exception) when (exception is IOException or SocketException or OperationCanceledException or TimeoutException)
        {
            return exception is IOException or SocketException;
        }
    }

    public async ValueTask DisposeAsync() => await _stream.DisposeAsync();

    public void ShutdownSend() => _socket.Shutdown(SocketShutdown.Send);

    private static FcgiResponse? Collect(FcgiRecord record, MemoryStream stdout, MemoryStream stderr, ref int stdoutRecords)
    {
        switch (record.Type)
        {
            case Stdout:
                stdout.Write(record.Content);
                stdoutRecords++;
                return null;
            case Stderr:
                stderr.Write(record.Content);
                return null;
            case EndRequest:
                return new FcgiResponse(stdout.ToArray(), Encoding.UTF8.GetString(stderr.ToArray()), BinaryPrimitives.ReadInt32BigEndian(record.Content), record.Content[4], stdoutRecords);
            default:
                throw new InvalidDataException($"Unexpected record type {record.Type} for request {record.RequestId}.");
        }
    }

    private async Task<bool> ReadExactlyOrEndAsync(byte[] buffer, TimeSpan timeout)
    {
        var read = 0;
        using var cancel = new CancellationTokenSource(timeout);
        while (read < buffer.Length)
        {
            var n = await _stream.ReadAsync(buffer.AsMemory(read), cancel.Token);
            if (n == 0)
            {
                return read == 0 ? false : throw new EndOfStreamException("The connection closed inside a record header.");
            }

            read += n;
        }

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
