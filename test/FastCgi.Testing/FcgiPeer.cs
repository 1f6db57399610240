using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text;

namespace FastCgi.Testing;

/// <summary>
/// The web server's end of one FastCGI connection, over whatever carries the bytes (a socket, an in-memory pipe):
/// sends bytes, reads the application's records with <see cref="FcgiRecords.TryTake"/>, and collects responses by
/// request id, keeping the records of other requests for later.
/// </summary>
public abstract class FcgiPeer : IAsyncDisposable
{
    private readonly PipeReader _input;
    private readonly Dictionary<ushort, List<FcgiRecord>> _pending = [];

    protected FcgiPeer(PipeReader input)
    {
        _input = input;
    }

    /// <summary>How long a read waits unless told otherwise: only a broken test waits that long.</summary>
    public static TimeSpan Timeout { get; } = TimeSpan.FromSeconds(30);

    /// <summary>Sends <paramref name="bytes"/> in one write.</summary>
    public abstract Task SendAsync(byte[] bytes);

    /// <summary>Sends a request and reads its response.</summary>
    public async Task<FcgiResponse> RequestAsync(ushort requestId, IEnumerable<KeyValuePair<string, string>> environ, byte[]? stdin = null, ushort role = FcgiRecords.Responder, bool keepConnection = true)
    {
        await SendAsync(FcgiRecords.Request(requestId, environ, stdin ?? [], role, keepConnection));
        return await ReadResponseAsync(requestId);
    }

    /// <summary>The next record from the connection, or null when it closed.</summary>
    public async Task<FcgiRecord?> ReadRecordAsync(TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? Timeout);
        while (true)
        {
            var result = await _input.ReadAsync(cancel.Token);
            var buffer = result.Buffer;
            if (FcgiRecords.TryTake(ref buffer, out var record))
            {
                _input.AdvanceTo(buffer.Start);
                return record;
            }

            _input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                return buffer.IsEmpty ? null : throw new EndOfStreamException("The connection closed inside a record.");
            }
        }
    }

    /// <summary>The whole records that have arrived, without waiting for more.</summary>
    public List<FcgiRecord> TakeAvailableRecords()
    {
        var records = new List<FcgiRecord>();
        if (!_input.TryRead(out var result))
        {
            return records;
        }

        var buffer = result.Buffer;
        while (FcgiRecords.TryTake(ref buffer, out var record))
        {
            records.Add(record);
        }

        _input.AdvanceTo(buffer.Start, buffer.End);
        return records;
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
                Keep(record);
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
        await SendAsync(FcgiRecords.Record(FcgiRecords.GetValues, 0, FcgiRecords.NameValues([new("FCGI_MPXS_CONNS", "")])));
        while (true)
        {
            var record = await ReadRecordAsync() ?? throw new EndOfStreamException("The connection closed before GET_VALUES_RESULT.");
            if (record.Type == FcgiRecords.GetValuesResult)
            {
                return;
            }

            Keep(record);
        }
    }

    /// <summary>
    /// Reads raw bytes until the connection ends (end of stream or a reset) and returns how many came, or throws
    /// once more than <paramref name="limit"/> came: the application never ended it.
    /// </summary>
    public async Task<long> ReadToEndAsync(long limit)
    {
        long total = 0;
        try
        {
            using var cancel = new CancellationTokenSource(Timeout);
            while (true)
            {
                var result = await _input.ReadAsync(cancel.Token);
                total += result.Buffer.Length;
                _input.AdvanceTo(result.Buffer.End);
                if (total > limit)
                {
                    throw new InvalidDataException($"More than {limit} bytes came and the connection is still open.");
                }

                if (result.IsCompleted)
                {
                    return total;
                }
            }
        }
        catch (IOException exception) when (exception.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionReset })
        {
            // An abortive close: the connection ended just the same.
            return total;
        }
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

    public virtual async ValueTask DisposeAsync()
    {
        await _input.CompleteAsync();
        GC.SuppressFinalize(this);
    }

    private void Keep(FcgiRecord record)
    {
        if (!_pending.TryGetValue(record.RequestId, out var list))
        {
            _pending[record.RequestId] = list = [];
        }

        list.Add(record);
    }

    private static FcgiResponse? Collect(FcgiRecord record, MemoryStream stdout, MemoryStream stderr, ref int stdoutRecords)
    {
        switch (record.Type)
        {
            case FcgiRecords.Stdout:
                stdout.Write(record.Content);
                stdoutRecords++;
                return null;
            case FcgiRecords.Stderr:
                stderr.Write(record.Content);
                return null;
            case FcgiRecords.EndRequest:
                return new FcgiResponse(stdout.ToArray(), Encoding.UTF8.GetString(stderr.ToArray()), BinaryPrimitives.ReadInt32BigEndian(record.Content), record.Content[4], stdoutRecords);
            default:
                throw new InvalidDataException($"Unexpected record type {record.Type} for request {record.RequestId}.");
        }
    }
}
