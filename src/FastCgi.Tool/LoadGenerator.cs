using System.Buffers;
using System.Diagnostics;
using System.Net;
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
internal sealed partial class LoadGenerator
{
    private readonly LoadSettings _settings;
    private readonly EndPoint _endPoint;
    private readonly byte[][] _requests;
    private long _measureFrom = long.MaxValue;
    private long _stopSendingAt = long.MaxValue;
    private long _giveUpAt = long.MaxValue;
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

    /// <summary>
    /// Runs the load: warm-up, then the measured phase; <paramref name="onMeasureStart"/> runs as it begins. The
    /// connections are shared among event loops, one thread each, as many as processors (at most one per connection).
    /// </summary>
    public async Task<WorkerStats[]> RunAsync(Action onMeasureStart, CancellationToken cancellationToken)
    {
        var stats = Enumerable.Range(0, _settings.Connections).Select(_ => new WorkerStats()).ToArray();
        var loops = Math.Min(_settings.Connections, Environment.ProcessorCount);
        var finished = new Task[loops];
        for (var i = 0; i < loops; i++)
        {
            var mine = stats.Where((_, k) => k % loops == i).ToArray();
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var thread = new Thread(() =>
            {
                try
                {
                    new EventLoop(this, mine).Run();
                    done.SetResult();
                }
                catch (Exception e)
                {
                    done.SetException(e);
                }
            })
            {
                IsBackground = true,
                Name = "fcgi bench loop",
            };
            thread.Start();
            finished[i] = done.Task;
        }

        try
        {
            await Task.Delay(_settings.WarmUp, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C during the warm-up: measure nothing, let the loops stop.
        }

        onMeasureStart();
        var now = Stopwatch.GetTimestamp();
        if (_settings.Count is null)
        {
            var duration = (long)(_settings.Duration.TotalSeconds * Stopwatch.Frequency);
            Volatile.Write(ref _stopSendingAt, now + duration);

            // Measured requests outstanding when sending stops get 10 s more, then count as timeouts (warm-up ones are
            // not waited for).
            Volatile.Write(ref _giveUpAt, now + duration + (10 * Stopwatch.Frequency));
        }

        Volatile.Write(ref _measureFrom, now);
        using (cancellationToken.Register(() =>
        {
            Volatile.Write(ref _stopSendingAt, 0);
            Volatile.Write(ref _giveUpAt, 0);
        }))
        {
            await Task.WhenAll(finished).ConfigureAwait(false);
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
