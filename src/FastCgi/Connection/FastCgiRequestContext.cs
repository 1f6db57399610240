using System.Buffers;
using System.IO.Pipelines;
using System.Text;

namespace FastCgi.Connection;

/// <summary>
/// One FastCGI request as the connection serves it: the low-level interface an <see cref="IFastCgiApplication"/>
/// works with. Its role and flags (spec 5.1), the CGI variables of its PARAMS stream (raw, or decoded on demand),
/// its body and FILTER data as pipes the application reads while the web server is still sending them, its output
/// and error streams as pipes that become FCGI_STDOUT and FCGI_STDERR records, and its abort token. The connection
/// reuses the object for its next request: it is valid until the request completes and the application returned.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The abort source has no timer or wait handle; a dropped context leaves nothing to release.")]
public sealed class FastCgiRequestContext
{
    private static readonly IReadOnlyDictionary<string, string> NoParams = new Dictionary<string, string>();

    private readonly IRequestLifecycle _lifecycle;
    private readonly RecordStreamWriter _stdout;
    private readonly RecordStreamWriter _stderr;
    private readonly PipeOptions _pipeOptions;
    private RequestInput? _data;
    private PipeReader? _noData;
    private byte[] _params = [];
    private int _paramsLength;
    private ParamsDictionary? _environ;
    private CancellationTokenSource _abortSource = new();
    private IAbortObserver? _abortObserver;
    private int _abortReason;
    private int _state;
    private volatile bool _listed;
    private long _begunAt;

    // Moves on when a request's PARAMS are given back, so that a reader on another thread (the status page) can tell
    // that what it read may belong to the next request.
    private int _generation;

    internal FastCgiRequestContext(IRequestLifecycle lifecycle, ConnectionOutput output, PipeOptions pipeOptions)
    {
        _lifecycle = lifecycle;
        _pipeOptions = pipeOptions;
        Stdin = new RequestInput(pipeOptions);
        _stdout = new RecordStreamWriter(output, RecordType.Stdout, this);
        _stderr = new RecordStreamWriter(output, RecordType.Stderr, this);
        WorkItem = new RequestRunner(this, lifecycle);
    }

    /// <summary>The role the web server asked for (spec 6).</summary>
    public Role Role { get; private set; }

    /// <summary>The request's id on its connection (spec 3.3).</summary>
    public int RequestId => Id;

    /// <summary>Whether the web server keeps the connection open after this request (FCGI_KEEP_CONN, spec 5.1).</summary>
    public bool KeepConnection { get; private set; }

    /// <summary>The PARAMS stream's bytes: name-value pairs (spec 3.4). Valid until the request ends.</summary>
    public ReadOnlyMemory<byte> RawParams => _environ?.RawBytes ?? ReadOnlyMemory<byte>.Empty;

    /// <summary>The CGI variables of the PARAMS stream; a value is decoded (UTF-8) when asked for. Valid until the request ends.</summary>
    public IReadOnlyDictionary<string, string> Params => (IReadOnlyDictionary<string, string>?)_environ ?? NoParams;

    /// <summary>
    /// The body (FCGI_STDIN). A read fails with an <see cref="IOException"/> when the request is aborted, and with a
    /// <see cref="RequestBodyTooLargeException"/> past the server's body limit. Empty for an Authorizer (spec 6.3).
    /// </summary>
    public PipeReader Body => Stdin.Reader;

    /// <summary>The file a Filter works on (FCGI_DATA, spec 6.4); empty for the other roles.</summary>
    public PipeReader Data => _data is not null && Role == Role.Filter
        ? _data.Reader
        : _noData ??= PipeReader.Create(ReadOnlySequence<byte>.Empty);

    /// <summary>
    /// The response (FCGI_STDOUT). Written bytes leave at a flush, or with END_REQUEST at
    /// <see cref="CompleteAsync"/>; completing the writer is optional.
    /// </summary>
    public PipeWriter Output => _stdout;

    /// <summary>
    /// The web server's error log (FCGI_STDERR). After the request completed its bytes go to the server's logger,
    /// never to the web server.
    /// </summary>
    public PipeWriter Error => _stderr;

    /// <summary>Fires when the request is aborted: FCGI_ABORT_REQUEST, a lost connection, or the drain timeout.</summary>
    public CancellationToken Aborted => _abortSource.Token;

    /// <summary>Why the request was aborted, or <see cref="AbortReason.None"/>.</summary>
    public AbortReason AbortReason => (AbortReason)Volatile.Read(ref _abortReason);

    /// <summary>
    /// The application's own per-request objects, kept with the context while the connection reuses it for its
    /// next requests (as Kestrel keeps an ASP.NET Core HttpContext per connection): set once, reset per request.
    /// The connection never reads or clears it.
    /// </summary>
    public object? ApplicationState { get; set; }

    internal ushort Id { get; private set; }

    /// <summary>Whether the request is in its connection's table; set and cleared under the table's lock.</summary>
    internal bool Listed
    {
        get => _listed;
        set => _listed = value;
    }

    internal RequestState State => (RequestState)Volatile.Read(ref _state);

    /// <summary>What the request holds of the server-wide slots (<see cref="IRequestAdmission"/>); read and set under the table's lock.</summary>
    internal RequestSlot Slot { get; set; }

    /// <summary>Whether the server answers the request itself (<see cref="IServerPages"/>), not the application.</summary>
    internal bool ServedByServer { get; set; }

    /// <summary>The CGI variables, once the PARAMS stream ended.</summary>
    internal ParamsDictionary? Environ => _environ;

    /// <summary>Whether the request left the connection: nothing more of it may be sent.</summary>
    internal bool HasEnded => State >= RequestState.Ending;

    internal RequestInput Stdin { get; }

    /// <summary>The DATA stream, for the Filter role only.</summary>
    internal RequestInput? DataInput => Role == Role.Filter ? _data : null;

    /// <summary>
    /// When BEGIN_REQUEST was processed (<see cref="TimeProvider.GetTimestamp"/>), for the PARAMS deadline; the
    /// maximum until the read loop sets it.
    /// </summary>
    internal long BegunAt
    {
        get => Volatile.Read(ref _begunAt);
        set => Volatile.Write(ref _begunAt, value);
    }

    /// <summary>Whether the request still waits for input from the web server (PARAMS, STDIN or DATA).</summary>
    internal bool AwaitsInput => State == RequestState.ReceivingParams || !Stdin.Ended || (DataInput is { Ended: false });

    /// <summary>
    /// Runs the request: queued to the thread pool without a closure or a Task, or executed inline. One per context,
    /// so that running a request allocates nothing of its own.
    /// </summary>
    internal IThreadPoolWorkItem WorkItem { get; }

    /// <summary>
    /// Ends the request (spec 5.5): pending output, the end of its streams and END_REQUEST with
    /// <paramref name="appStatus"/> (like a CGI exit code) go out in one send. Only the first call counts.
    /// </summary>
    /// <exception cref="IOException">The connection failed.</exception>
    public ValueTask CompleteAsync(int appStatus = 0) =>
        TryMoveTo(RequestState.Ending) ? _lifecycle.EndRequestAsync(this, appStatus) : ValueTask.CompletedTask;

    /// <summary>
    /// Ends the request as failed after part of its response was sent: what was flushed stays sent, then the
    /// connection closes without END_REQUEST, the only way FastCGI has to tell the web server a response is
    /// incomplete. The connection's other requests are aborted as on a lost connection.
    /// </summary>
    public ValueTask FailAsync() =>
        TryMoveTo(RequestState.Ending) ? _lifecycle.FailRequestAsync(this) : ValueTask.CompletedTask;

    /// <summary>Starts a request on this context (new, or reused once its last request is over).</summary>
    internal void Begin(ushort requestId, Role role, bool keepConnection)
    {
        Id = requestId;
        Role = role;
        KeepConnection = keepConnection;
        BegunAt = long.MaxValue;
        ServedByServer = false;
        _abortReason = (int)AbortReason.None;
        _abortObserver = null;
        _environ = null;
        _noData = null;
        _stdout.Reset();
        _stderr.Reset();
        Volatile.Write(ref _state, (int)RequestState.ReceivingParams);
        if (!_abortSource.TryReset())
        {
            _abortSource.Dispose();
            _abortSource = new CancellationTokenSource();
        }

        if (role == Role.Filter)
        {
            _data ??= new RequestInput(_pipeOptions);
        }
    }

    /// <summary>
    /// Makes the context reusable for the connection's next request: only when both ends of its pipes are done.
    /// Called by the read loop, the only writer of the pipes.
    /// </summary>
    internal bool TryReset() => Stdin.TryReset() && (Role != Role.Filter || _data!.TryReset());

    /// <summary>The application is about to start: its input streams go through their pipes from now on.</summary>
    internal void HandOutInput()
    {
        Stdin.HandOut();
        DataInput?.HandOut();
    }

    /// <summary>Moves the request forward; false when it is already there or past it.</summary>
    internal bool TryMoveTo(RequestState next)
    {
        while (true)
        {
            var current = Volatile.Read(ref _state);
            if (current >= (int)next)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _state, (int)next, current) == current)
            {
                return true;
            }
        }
    }

    /// <summary>Appends PARAMS content; false when the stream would pass <paramref name="maxBytes"/>.</summary>
    internal bool AppendParams(in ReadOnlySequence<byte> content, int maxBytes)
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
    /// <exception cref="ProtocolException">The pairs are malformed or over a limit.</exception>
    internal void CompleteParams(int maxCount, int maxLength)
    {
        var data = _params.Length > 0 ? _params : ArrayPool<byte>.Shared.Rent(1);
        var length = _paramsLength;
        _params = [];
        _paramsLength = 0;
        _environ = ParamsDictionary.Create(data, length, maxCount, maxLength, Id);
        TryMoveTo(RequestState.Starting);
    }

    /// <summary>
    /// Sets what is told of an abort before the token fires, and returns the abort reason so far: when it is not
    /// <see cref="AbortReason.None"/>, the observer may have come too late to be told.
    /// </summary>
    internal AbortReason ObserveAbort(IAbortObserver observer)
    {
        // A full fence between the two, as Abort has one (the compare-exchange) between setting the reason and reading
        // the observer: one of them sees the other, so an abort racing with this call is never missed by both.
        Interlocked.Exchange(ref _abortObserver, observer);
        return AbortReason;
    }

    /// <summary>Removes <paramref name="observer"/> if it is still the one told of an abort.</summary>
    internal void StopObservingAbort(IAbortObserver observer) => Interlocked.CompareExchange(ref _abortObserver, null, observer);

    /// <summary>Marks the request aborted, tells the observer, and fires its token.</summary>
    internal void Abort(AbortReason reason)
    {
        if (HasEndedFully || Interlocked.CompareExchange(ref _abortReason, (int)reason, (int)AbortReason.None) != (int)AbortReason.None)
        {
            return;
        }

        Volatile.Read(ref _abortObserver)?.OnAborting(reason);
        try
        {
            _abortSource.Cancel();
        }
        catch (AggregateException)
        {
            // A callback registered by the application threw; the abort itself still stands.
        }
    }

    /// <summary>Ends both input streams, with an error when the request was aborted.</summary>
    internal void EndInput(Exception error)
    {
        if (!Stdin.Ended)
        {
            Stdin.End(error);
        }

        if (DataInput is { Ended: false } data)
        {
            data.End(error);
        }
    }

    /// <summary>
    /// Releases what the request held once the application returned: the readers' ends of the input pipes (so the
    /// pipes can be reset), the PARAMS bytes and the output buffers.
    /// </summary>
    internal void Recycle()
    {
        Volatile.Write(ref _state, (int)RequestState.Ended);
        Stdin.Reader.Complete();
        DataInput?.Reader.Complete();

        // A full fence: the move is seen before the pooled bytes can be reused by anyone else (TryReadTarget).
        Interlocked.Increment(ref _generation);
        _environ?.Dispose();
        ReturnParams();
        _stdout.Clear(release: true);
        _stderr.Clear(release: true);
    }

    internal void ReturnParams()
    {
        if (_params.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_params);
        }

        _params = [];
        _paramsLength = 0;
    }

    /// <summary>
    /// The method and URL path (no query string) of a request in flight, read from another thread for the status
    /// page; false when the request has no PARAMS yet, or ended (its pooled bytes may then hold another's) meanwhile.
    /// </summary>
    internal bool TryReadTarget(out string method, out string path)
    {
        method = path = "";
        var generation = Volatile.Read(ref _generation);
        var environ = Volatile.Read(ref _environ);
        if (environ is null || State is < RequestState.Starting or RequestState.Ended)
        {
            return false;
        }

        try
        {
            method = environ.TryGetRaw("REQUEST_METHOD"u8, out var raw) ? Encoding.UTF8.GetString(raw) : "";
            path = environ.UrlPath(out var script, out var pathInfo) is { IsEmpty: false } uriPath
                ? Encoding.UTF8.GetString(uriPath)
                : Encoding.UTF8.GetString(script) + Encoding.UTF8.GetString(pathInfo);
        }
        catch (Exception exception) when (exception is ObjectDisposedException or IndexOutOfRangeException or ArgumentException)
        {
            // Given back under the read: the generation below says so too.
            return false;
        }

        Interlocked.MemoryBarrier();
        return Volatile.Read(ref _generation) == generation;
    }

    /// <summary>The STDOUT and STDERR bytes not yet sent, and whether STDERR needs its end record.</summary>
    internal (ReadOnlyMemory<byte> Stdout, ReadOnlyMemory<byte> Stderr, bool StderrUsed) TakePendingOutput() =>
        (_stdout.Pending, _stderr.Pending, _stderr.Used);

    /// <summary>The pending output was written: forget it (the buffers stay for the request's last writes).</summary>
    internal void PendingOutputWritten()
    {
        _stdout.Clear(release: false);
        _stderr.Clear(release: false);
    }

    internal void LogErrorAfterEnd(ReadOnlySpan<byte> message) =>
        _lifecycle.ErrorAfterEnd(this, Encoding.UTF8.GetString(message).TrimEnd('\n'));

    private bool HasEndedFully => State == RequestState.Ended;

    /// <summary>
    /// Starts the run and awaits it without a state machine of its own (the run's is pooled, and returns to its pool
    /// when awaited); only then does the connection get the context back for its next request, so a run never
    /// overlaps the one before it on the same runner.
    /// </summary>
    private sealed class RequestRunner : IThreadPoolWorkItem
    {
        private readonly FastCgiRequestContext _request;
        private readonly IRequestLifecycle _lifecycle;
        private readonly Action _onRunCompleted;
        private ValueTask _running;

        public RequestRunner(FastCgiRequestContext request, IRequestLifecycle lifecycle)
        {
            _request = request;
            _lifecycle = lifecycle;
            _onRunCompleted = OnRunCompleted;
        }

        public void Execute()
        {
            var running = _lifecycle.RunAsync(_request);
            if (running.IsCompleted)
            {
                Finish(running);
                return;
            }

            _running = running;
            running.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onRunCompleted);
        }

        private void OnRunCompleted()
        {
            var running = _running;
            _running = default;
            Finish(running);
        }

        private void Finish(ValueTask running)
        {
            running.GetAwaiter().GetResult();
            _lifecycle.RunFinished(_request);
        }
    }
}

/// <summary>
/// What is told of a request's abort before its <see cref="FastCgiRequestContext.Aborted"/> token fires: the request
/// object an application built over the context, which shares the token and must know the reason by the time the
/// token's callbacks run.
/// </summary>
internal interface IAbortObserver
{
    /// <summary>The request is aborted for <paramref name="reason"/>; its token fires next.</summary>
    void OnAborting(AbortReason reason);
}

/// <summary>What a request reports to its connection: the narrow interface between the two.</summary>
internal interface IRequestLifecycle
{
    /// <summary>Runs the application on the request and ends it, whatever happens; never faults.</summary>
    ValueTask RunAsync(FastCgiRequestContext request);

    /// <summary>The run that <see cref="RunAsync"/> returned was awaited: the context may serve the next request.</summary>
    void RunFinished(FastCgiRequestContext request);

    /// <summary>Takes the request off the connection and sends its END_REQUEST.</summary>
    ValueTask EndRequestAsync(FastCgiRequestContext request, int appStatus);

    /// <summary>Takes the request off the connection and closes the connection without END_REQUEST.</summary>
    ValueTask FailRequestAsync(FastCgiRequestContext request);

    /// <summary>Logs what the request wrote to its error stream after it ended.</summary>
    void ErrorAfterEnd(FastCgiRequestContext request, string message);
}
