using System.Buffers;
using System.IO.Pipelines;

namespace FastCgi.Connection;

/// <summary>
/// The connection's state for one request id: its role and flags, the PARAMS bytes until the stream ends, and
/// the STDIN and DATA pipes the read loop fills while the handler reads them.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The abort source has no timer or wait handle; a dropped context leaves nothing to release.")]
internal sealed class RequestContext : IThreadPoolWorkItem
{
    private static readonly IReadOnlyDictionary<string, string> NoParams = new Dictionary<string, string>();

    // Body segments the size of a whole STDIN record (nginx sends 65528 content bytes): one copy in, one out.
    private const int BodySegmentSize = 64 * 1024;

    private readonly PipeOptions _pipeOptions;
    private byte[] _params = [];
    private int _paramsLength;
    private ParamsDictionary? _environ;
    private Pipe? _data;
    private bool _inputCompleted;

    /// <param name="connection">The connection the requests arrive on.</param>
    /// <param name="maxBufferedInput">The body bytes held while the handler has not read them.</param>
    /// <param name="inline">
    /// Resume the handler's body reads on the read loop's thread, and the read loop on the handler's, instead of
    /// through the thread pool: a switch saved per chunk of body. Only with one request per connection, where
    /// the read loop has nothing else to do meanwhile.
    /// </param>
    public RequestContext(FastCgiConnection connection, int maxBufferedInput, bool inline)
    {
        Connection = connection;
        var scheduler = inline ? PipeScheduler.Inline : PipeScheduler.ThreadPool;
        _pipeOptions = new PipeOptions(
            readerScheduler: scheduler,
            writerScheduler: scheduler,
            pauseWriterThreshold: maxBufferedInput,
            resumeWriterThreshold: maxBufferedInput / 2,
            minimumSegmentSize: BodySegmentSize,
            useSynchronizationContext: false);
        Stdin = new Pipe(_pipeOptions);
    }

    public FastCgiConnection Connection { get; }

    public ushort RequestId { get; private set; }

    public Role Role { get; private set; }

    public bool KeepConnection { get; private set; }

    public Pipe Stdin { get; }

    /// <summary>The DATA stream's pipe, for the Filter role only.</summary>
    public Pipe? Data => Role == Role.Filter ? _data : null;

    public bool ParamsComplete { get; private set; }

    /// <summary>When BEGIN_REQUEST arrived (<see cref="Environment.TickCount64"/>), for the PARAMS deadline.</summary>
    public long BegunAt { get; private set; }

    public FastCgiRequest? Request { get; set; }

    /// <summary>The request's abort token source, reused by the next request unless it was cancelled.</summary>
    public CancellationTokenSource AbortSource { get; private set; } = new();

    /// <summary>The request's CGI meta-variables, indexed when PARAMS ended.</summary>
    public IReadOnlyDictionary<string, string> Environ { get; private set; } = NoParams;

    /// <summary>Starts a request on this context (new, or reused once its last request is over).</summary>
    public void Begin(ushort requestId, Role role, bool keepConnection)
    {
        RequestId = requestId;
        Role = role;
        KeepConnection = keepConnection;
        BegunAt = Environment.TickCount64;
        ParamsComplete = false;
        StdinComplete = false;
        DataComplete = false;
        BodyBytes = 0;
        Request = null;
        Environ = NoParams;
        _environ = null;
        _inputCompleted = false;
        if (!AbortSource.TryReset())
        {
            AbortSource.Dispose();
            AbortSource = new CancellationTokenSource();
        }

        if (role == Role.Filter)
        {
            _data ??= new Pipe(_pipeOptions);
        }
    }

    /// <summary>
    /// Makes the context reusable for the connection's next request: only when both ends of its pipes are done
    /// (the read loop saw the streams end; the request, disposed, completed the readers). Called by the read loop,
    /// the only writer of the pipes.
    /// </summary>
    public bool TryReset()
    {
        var inputDone = _inputCompleted || (StdinComplete && (Data is null || DataComplete));
        if (!inputDone)
        {
            return false;
        }

        try
        {
            Stdin.Reset();
            _data?.Reset();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>Appends PARAMS content; false when the stream would pass <paramref name="maxBytes"/>.</summary>
    public bool AppendParams(in ReadOnlySequence<byte> content, int maxBytes)
    {
        var needed = _paramsLength + (int)content.Length;
        if (needed > maxBytes)
        {
            return false;
        }

        if (needed > _params.Length)
        {
            // The records before this one stay at the front: a pair may straddle records (spec 3.4).
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, 1024));
            _params.AsSpan(0, _paramsLength).CopyTo(bigger);
            if (_params.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(_params);
            }

            _params = bigger;
        }

        content.CopyTo(_params.AsSpan(_paramsLength));
        _paramsLength = needed;
        return true;
    }

    /// <summary>
    /// Indexes the PARAMS stream. Pairs may straddle records (spec 3.4), so they are only parsed once the stream
    /// ended; the bytes move to the <see cref="ParamsDictionary"/>, which returns them to the pool when the
    /// request ends.
    /// </summary>
    public void CompleteParams(FastCgiServerLimits limits)
    {
        var data = _params.Length > 0 ? _params : ArrayPool<byte>.Shared.Rent(1);
        var environ = ParamsDictionary.Create(data, _paramsLength, limits, RequestId);
        _params = [];
        _paramsLength = 0;
        _environ = environ;
        Environ = environ;
        ParamsComplete = true;
    }

    /// <summary>Returns the PARAMS bytes to the pool (the request ended).</summary>
    public void ReleaseEnviron() => _environ?.Dispose();

    /// <summary>Runs the request's handler: queued on the thread pool without a closure or a Task.</summary>
    public void Execute() => _ = Connection.RunRequestAsync(this);

    /// <summary>Ends both input streams, with an error when the request was aborted.</summary>
    public void CompleteInput(Exception? error)
    {
        _inputCompleted = true;
        Stdin.Writer.Complete(error);
        Data?.Writer.Complete(error);
    }

    public void ReturnParams()
    {
        if (_params.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_params);
        }

        _params = [];
        _paramsLength = 0;
    }

    /// <summary>Bytes of STDIN received so far, for <see cref="FastCgiServerLimits.MaxRequestBodyBytes"/>.</summary>
    public long BodyBytes { get; set; }

    /// <summary>Whether the request still waits for input from the web server (PARAMS, STDIN or DATA).</summary>
    public bool AwaitsInput => !ParamsComplete || !StdinComplete || (Data is not null && !DataComplete);

    public bool StdinComplete { get; set; }

    public bool DataComplete { get; set; }
}
