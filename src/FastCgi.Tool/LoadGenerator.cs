using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using FastCgi.Protocol;
using HdrHistogram;

namespace FastCgi.Tool;

/// <summary>What <c>fcgi bench</c> runs: the load's shape and the one request it repeats.</summary>
internal sealed record LoadSettings
{
    public int Connections { get; init; } = 16;

    public int InFlight { get; init; } = 1;

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How many requests to measure; when set, it replaces <see cref="Duration"/>.</summary>
    public long? Count { get; init; }

    public TimeSpan WarmUp { get; init; } = TimeSpan.FromSeconds(1);

    public bool KeepConnection { get; init; } = true;

    public Role Role { get; init; } = Role.Responder;

    public IReadOnlyList<KeyValuePair<string, string>> Params { get; init; } = [];

    public byte[] Body { get; init; } = [];

    /// <summary>The response body every answer must have (after the CGI head), or none to check nothing.</summary>
    public byte[]? ExpectedBody { get; init; }
}

/// <summary>Counts of one worker (a connection slot), merged at the end.</summary>
internal sealed class WorkerStats
{
    public LongHistogram Latency { get; } = new(1, 3_600_000_000L, 3);

    public long Completed { get; set; }

    public Dictionary<string, long> Errors { get; } = new(StringComparer.Ordinal);

    public long ConnectionsServed { get; set; }

    public long LastCompletion { get; set; }

    public void Error(string kind) => Errors[kind] = Errors.GetValueOrDefault(kind) + 1;
}

/// <summary>
/// The load generator: <see cref="LoadSettings.Connections"/> workers, each on one socket (or a new socket per request
/// without FCGI_KEEP_CONN) with <see cref="LoadSettings.InFlight"/> requests outstanding under distinct request ids.
/// Each answer is timed from the send of its request to its FCGI_END_REQUEST and followed at once by the next request
/// on the same id. Requests sent before the warm-up ends are not measured; the measured ones all end up either timed
/// or counted as an error, so requests sent = completed + errors.
/// </summary>
internal sealed class LoadGenerator
{
    private readonly LoadSettings _settings;
    private readonly EndPoint _endPoint;
    private readonly byte[][] _requests;
    private long _measureFrom = long.MaxValue;
    private long _stopSendingAt = long.MaxValue;
    private long _tickets;
    private long _sent;
    private long _completedLive;
    private long _failedLive;

    public LoadGenerator(LoadSettings settings, EndPoint endPoint)
    {
        _settings = settings;
        _endPoint = endPoint;
        _requests = new byte[settings.InFlight + 1][];
        for (var id = 1; id <= settings.InFlight; id++)
        {
            _requests[id] = BuildRequest((ushort)id);
        }

        _tickets = settings.Count ?? long.MaxValue;
    }

    /// <summary>Requests answered so far in the measured phase, for the progress line.</summary>
    public long CompletedLive => Interlocked.Read(ref _completedLive);

    public long FailedLive => Interlocked.Read(ref _failedLive);

    /// <summary>Measured requests sent.</summary>
    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>The timestamp the measured phase began at, or <see cref="long.MaxValue"/> before.</summary>
    public long MeasureFrom => Volatile.Read(ref _measureFrom);

    /// <summary>Runs the load: warm-up, then the measured phase; <paramref name="onMeasureStart"/> runs as it begins.</summary>
    public async Task<WorkerStats[]> RunAsync(Action onMeasureStart, CancellationToken cancellationToken)
    {
        var stats = Enumerable.Range(0, _settings.Connections).Select(_ => new WorkerStats()).ToArray();
        using var hardStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var workers = stats.Select(s => Task.Run(() => WorkerAsync(s, hardStop.Token), CancellationToken.None)).ToArray();

        try
        {
            await Task.Delay(_settings.WarmUp, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C during the warm-up: measure nothing, let the workers stop.
        }

        onMeasureStart();
        var now = Stopwatch.GetTimestamp();
        if (_settings.Count is null)
        {
            Volatile.Write(ref _stopSendingAt, now + (long)(_settings.Duration.TotalSeconds * Stopwatch.Frequency));
        }

        Volatile.Write(ref _measureFrom, now);

        // Requests outstanding when sending stops get 10 s more, then count as timeouts.
        var deadline = _settings.Count is null ? _settings.Duration + TimeSpan.FromSeconds(10) : Timeout.InfiniteTimeSpan;
        if (deadline != Timeout.InfiniteTimeSpan)
        {
            hardStop.CancelAfter(deadline);
        }

        using (cancellationToken.Register(() => Volatile.Write(ref _stopSendingAt, 0)))
        {
            await Task.WhenAll(workers).ConfigureAwait(false);
        }

        return stats;
    }

    /// <summary>
    /// Whether a request may be sent now, and whether it is measured: decided here, once, so that a request the
    /// warm-up sent is never counted as completed in the measured phase however the two phases race.
    /// </summary>
    private bool MaySend(long now, out bool measured)
    {
        measured = false;
        if (now >= Volatile.Read(ref _stopSendingAt))
        {
            return false;
        }

        if (now < Volatile.Read(ref _measureFrom))
        {
            return true;
        }

        if (Interlocked.Decrement(ref _tickets) < 0)
        {
            return false;
        }

        Interlocked.Increment(ref _sent);
        measured = true;
        return true;
    }

    private async Task WorkerAsync(WorkerStats stats, CancellationToken cancellationToken)
    {
        var inFlight = _settings.InFlight;
        var sentAt = new long[inFlight + 1];
        var measured = new bool[inFlight + 1];
        var busy = new bool[inFlight + 1];
        var bodies = _settings.ExpectedBody is null ? null : Enumerable.Range(0, inFlight + 1).Select(_ => new ArrayBufferWriter<byte>()).ToArray();
        var buffer = new byte[256 * 1024];
        var send = new ArrayBufferWriter<byte>();
        while (true)
        {
            // One connection: kept for the whole run with FCGI_KEEP_CONN, else one per request.
            Socket socket;
            var now = Stopwatch.GetTimestamp();
            if (!MaySend(now, out var firstMeasured))
            {
                return;
            }

            try
            {
                socket = await AppAddress.ConnectAsync(_endPoint, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                if (firstMeasured)
                {
                    Failed(stats, e is SocketException s ? "connect: " + s.SocketErrorCode : "timeout");
                }

                if (e is OperationCanceledException)
                {
                    return;
                }

                continue;
            }

            var servedHere = false;
            var outstanding = 0;
            using (socket)
            {
                send.ResetWrittenCount();
                now = Stopwatch.GetTimestamp();
                for (var id = 1; id <= inFlight; id++)
                {
                    var measuredHere = firstMeasured;
                    if (id > 1 && !MaySend(now, out measuredHere))
                    {
                        break;
                    }

                    send.Write(_requests[id]);
                    sentAt[id] = now;
                    measured[id] = measuredHere;
                    busy[id] = true;
                    bodies?[id].ResetWrittenCount();
                    outstanding++;
                }

                var start = 0;
                var end = 0;
                var lost = "closed";
                try
                {
                    await SendAllAsync(socket, send.WrittenMemory, cancellationToken).ConfigureAwait(false);
                    while (outstanding > 0)
                    {
                        if (end == buffer.Length)
                        {
                            Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                            end -= start;
                            start = 0;
                        }

                        var read = await socket.ReceiveAsync(buffer.AsMemory(end), SocketFlags.None, cancellationToken).ConfigureAwait(false);
                        if (read == 0)
                        {
                            break;
                        }

                        end += read;
                        now = Stopwatch.GetTimestamp();
                        send.ResetWrittenCount();
                        var sequence = new ReadOnlySequence<byte>(buffer, start, end - start);
                        while (RecordReader.TryReadRecord(ref sequence, out var header, out var content))
                        {
                            var contentOffset = start + FastCgiConstants.HeaderLength;
                            start += header.TotalLength;
                            var id = header.RequestId;
                            if (id == 0 || id > inFlight || !busy[id])
                            {
                                continue;
                            }

                            if (header.Type == RecordType.Stdout && bodies is not null)
                            {
                                bodies[id].Write(buffer.AsSpan(contentOffset, header.ContentLength));
                                continue;
                            }

                            if (header.Type != RecordType.EndRequest || header.ContentLength < EndRequestBody.Length)
                            {
                                continue;
                            }

                            busy[id] = false;
                            outstanding--;
                            var endBody = EndRequestBody.ReadFrom(buffer.AsSpan(contentOffset, EndRequestBody.Length));
                            if (measured[id])
                            {
                                var problem = endBody.ProtocolStatus != ProtocolStatus.RequestComplete ? RecordTrace.StatusName(endBody.ProtocolStatus)
                                    : bodies is not null && !BodyMatches(bodies[id].WrittenSpan) ? "unexpected body"
                                    : null;
                                if (problem is null)
                                {
                                    stats.Latency.RecordValue(Math.Max(1, (now - sentAt[id]) * 1_000_000 / Stopwatch.Frequency));
                                    stats.Completed++;
                                    stats.LastCompletion = now;
                                    servedHere = true;
                                    Interlocked.Increment(ref _completedLive);
                                }
                                else
                                {
                                    Failed(stats, problem);
                                }
                            }

                            if (_settings.KeepConnection && MaySend(now, out var measuredNext))
                            {
                                send.Write(_requests[id]);
                                sentAt[id] = now;
                                measured[id] = measuredNext;
                                busy[id] = true;
                                bodies?[id].ResetWrittenCount();
                                outstanding++;
                            }
                        }

                        if (start == end)
                        {
                            start = end = 0;
                        }

                        if (send.WrittenCount > 0)
                        {
                            await SendAllAsync(socket, send.WrittenMemory, cancellationToken).ConfigureAwait(false);
                        }
                    }
                }
                catch (OperationCanceledException)
                {
                    lost = "timeout";
                }
                catch (SocketException e)
                {
                    lost = "socket: " + e.SocketErrorCode;
                }
                catch (ProtocolException)
                {
                    lost = "protocol error";
                }

                for (var id = 1; id <= inFlight; id++)
                {
                    if (busy[id])
                    {
                        busy[id] = false;
                        if (measured[id])
                        {
                            Failed(stats, lost);
                        }
                    }
                }

                if (servedHere)
                {
                    stats.ConnectionsServed++;
                }

                if (lost == "timeout" && cancellationToken.IsCancellationRequested)
                {
                    return;
                }
            }
        }
    }

    private void Failed(WorkerStats stats, string kind)
    {
        stats.Error(kind);
        Interlocked.Increment(ref _failedLive);
    }

    private bool BodyMatches(ReadOnlySpan<byte> stdout)
    {
        var headEnd = stdout.IndexOf("\r\n\r\n"u8);
        var body = headEnd >= 0 ? stdout[(headEnd + 4)..] : stdout.IndexOf("\n\n"u8) is var lf and >= 0 ? stdout[(lf + 2)..] : [];
        return body.SequenceEqual(_settings.ExpectedBody);
    }

    private static async ValueTask SendAllAsync(Socket socket, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        while (!bytes.IsEmpty)
        {
            var sent = await socket.SendAsync(bytes, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            bytes = bytes[sent..];
        }
    }

    private byte[] BuildRequest(ushort id)
    {
        var output = new ArrayBufferWriter<byte>();
        FastCgiRequestSpec.WriteHead(output, id, _settings.Role, _settings.KeepConnection, _settings.Params);
        if (_settings.Role != Role.Authorizer)
        {
            WriteStream(output, RecordType.Stdin, id, _settings.Body);
        }
        else
        {
            RecordWriter.WriteEndOfStream(output, RecordType.Stdin, id);
        }

        if (_settings.Role == Role.Filter)
        {
            WriteStream(output, RecordType.Data, id, []);
        }

        return output.WrittenSpan.ToArray();
    }

    private static void WriteStream(ArrayBufferWriter<byte> output, RecordType type, ushort id, ReadOnlySpan<byte> data)
    {
        // 65528-byte records need no padding, as nginx sends a body.
        while (!data.IsEmpty)
        {
            var length = Math.Min(data.Length, 65528);
            RecordWriter.WriteRecord(output, type, id, data[..length]);
            data = data[length..];
        }

        RecordWriter.WriteEndOfStream(output, type, id);
    }
}
