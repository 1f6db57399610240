using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace FastCgi.Connection;

/// <summary>
/// One web server connection over a duplex pipe: reads records, demultiplexes them by request id (spec 3.3), runs
/// the application when a request's PARAMS end, feeds STDIN and DATA to it, and ends the connection when the web
/// server or the protocol says so. Protocol violations close the connection; request-level refusals are
/// END_REQUEST records. The requests themselves are in its <see cref="RequestTable"/>, the output in its
/// <see cref="ConnectionOutput"/>.
/// </summary>
internal sealed class FastCgiConnection : IRequestLifecycle
{
    // Body segments the size of a whole STDIN record (nginx sends 65528 content bytes): one copy in, one out.
    private const int BodySegmentSize = 64 * 1024;

    private readonly PipeReader _input;
    private readonly FastCgiConnectionSettings _settings;
    private readonly IFastCgiApplication _application;
    private readonly RequestTable _requests;
    private readonly PipeOptions _pipeOptions;
    private readonly long _id;
    private readonly Action _abortTransport;
    private readonly Action _resetTransport;
    private readonly long _openedAt;
    private readonly Func<FastCgiRequestContext> _takeContext;
    private readonly EndBatchWorkItem _endBatch;

    // The last finished request's context, for the next BEGIN_REQUEST to reuse (saves its pipes on a kept connection).
    private FastCgiRequestContext? _finished;

    // Requests whose PARAMS ended in the records being processed, started after them.
    private readonly List<FastCgiRequestContext> _ready = [];

    // Requests that may still wait for input (read loop only): a read's start is timed only while one does.
    private readonly List<FastCgiRequestContext> _inputs = [];

    private long _readStartedAt;
    private volatile bool _readPending;
    private int _timedOut;

    /// <param name="transport">What the web server sends, and where the records go.</param>
    /// <param name="application">What runs each request.</param>
    /// <param name="settings">Limits, timeouts, clock, logger.</param>
    /// <param name="id">The connection's id in the log.</param>
    /// <param name="abortTransport">Closes the transport (a timeout).</param>
    /// <param name="resetTransport">Closes the transport abortively, a TCP reset (a response failed half-way); by default as <paramref name="abortTransport"/>.</param>
    public FastCgiConnection(IDuplexPipe transport, IFastCgiApplication application, FastCgiConnectionSettings settings, long id, Action abortTransport, Action? resetTransport = null)
    {
        _input = transport.Input;
        _settings = settings;
        _application = application;
        Output = new ConnectionOutput(transport.Output, settings.TimeProvider);
        _requests = new RequestTable(settings);
        _id = id;
        _abortTransport = abortTransport;
        _resetTransport = resetTransport ?? abortTransport;
        _openedAt = settings.TimeProvider.GetTimestamp();

        // Inline: resume the application's body reads on the read loop's thread, and the read loop on the
        // application's, instead of through the thread pool: a switch saved per chunk of body. Only with one request
        // per connection, where the read loop has nothing else to do meanwhile.
        var scheduler = settings.Multiplexed ? PipeScheduler.ThreadPool : PipeScheduler.Inline;
        _pipeOptions = new PipeOptions(
            readerScheduler: scheduler,
            writerScheduler: scheduler,
            pauseWriterThreshold: settings.MaxBufferedInputBytes,
            resumeWriterThreshold: settings.MaxBufferedInputBytes / 2,
            minimumSegmentSize: BodySegmentSize,
            useSynchronizationContext: false);
        _takeContext = TakeContext;
        _endBatch = new EndBatchWorkItem(Output);
    }

    public ConnectionOutput Output { get; }

    /// <summary>When the connection last became idle (<see cref="TimeProvider.GetTimestamp"/>); while busy, the maximum.</summary>
    public long IdleSince => _requests.IdleSince;

    /// <summary>The requests on the connection now (the status page's listing).</summary>
    public FastCgiRequestContext[] Requests => _requests.Snapshot();

    /// <summary>Whether <see cref="TryCloseIdle"/> closed the connection.</summary>
    public bool Evicted { get; private set; }

    /// <summary>
    /// Closes the connection if no request is in flight on it, to make room for a new one at FCGI_MAX_CONNS. With
    /// KEEP_CONN the web server owns the connection's lifetime (spec, Requests 4); this exception at the limit beats
    /// leaving a new connection unserved, and web servers reconnect when a kept connection closes between requests.
    /// </summary>
    public bool TryCloseIdle()
    {
        if (!_requests.TryCloseIdle())
        {
            return false;
        }

        Evicted = true;
        ConnectionLog.Evicted(_settings.Logger, _id);
        _input.CancelPendingRead();
        return true;
    }

    /// <summary>Reads and dispatches records until the web server closes, a violation, or the server stops.</summary>
    public async Task RunAsync()
    {
        try
        {
            await ReadLoopAsync().ConfigureAwait(false);
        }
        catch (ProtocolException exception)
        {
            ConnectionLog.ProtocolError(_settings.Logger, _id, exception.Reason, exception.Message);
        }
        catch (Exception exception) when (exception is IOException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
            if (Volatile.Read(ref _timedOut) == 0)
            {
                ConnectionLog.ConnectionFailed(_settings.Logger, _id, exception.Message);
            }
        }
        catch (OperationCanceledException)
        {
            // The server is shutting down.
        }
        finally
        {
            await _input.CompleteAsync().ConfigureAwait(false);
            AbortAll(AbortReason.ConnectionLost);
            foreach (var request in _requests.Snapshot())
            {
                request.EndInput(new IOException("The web server connection was lost."));
            }

            ReleaseUnstarted();
            await _requests.WhenAllSettledAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Asks the connection to end once its requests are done; an idle connection ends at once. New requests are
    /// refused with FCGI_OVERLOADED meanwhile.
    /// </summary>
    public void RequestStop()
    {
        if (_requests.RequestStop())
        {
            _input.CancelPendingRead();
        }
    }

    /// <summary>
    /// Called about once a second by the server: closes the connection when the web server keeps a request
    /// waiting for input too long (a slow-loris PARAMS stream, a stalled body, a connection that never sends a
    /// request) or stops reading the response.
    /// </summary>
    public void CheckTimeouts()
    {
        var time = _settings.TimeProvider;
        var input = _settings.InputTimeout;
        string? expired = null;
        if (!_requests.AnyBegun && time.GetElapsedTime(_openedAt) > input)
        {
            expired = "no request arrived";
        }

        foreach (var request in _requests.Snapshot())
        {
            if (request.State == RequestState.ReceivingParams && time.GetElapsedTime(request.BegunAt) > input)
            {
                expired = $"request {request.Id} did not finish its PARAMS";
            }
            else if (request.AwaitsInput && _readPending && time.GetElapsedTime(Volatile.Read(ref _readStartedAt)) > input)
            {
                expired = $"request {request.Id} waited for input";
            }
        }

        if (expired is null && Output.FlushingSince is var since and > 0 && time.GetElapsedTime(since) > _settings.WriteTimeout)
        {
            expired = "the web server stopped reading the response";
        }

        if (expired is not null && Interlocked.Exchange(ref _timedOut, 1) == 0)
        {
            ConnectionLog.TimedOut(_settings.Logger, _id, expired);
            _abortTransport();
        }
    }

    /// <summary>Aborts every request in flight: their tokens fire; the read loop ends their input.</summary>
    public void AbortAll(AbortReason reason)
    {
        foreach (var request in _requests.Snapshot())
        {
            request.Abort(reason);
        }
    }

    /// <inheritdoc />
    // Pooled: a handler that waits (a synchronous one always does, on its handler thread) would box this state machine
    // anew for every request. The request's runner awaits it exactly once.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask RunAsync(FastCgiRequestContext request)
    {
        request.TryMoveTo(RequestState.Running);
        try
        {
            ValueTask processing;

            // A loop thread blocked by the application is the epoll engine's stall watch to find; the thread pool
            // guard's clock counts only applications on other threads.
            var guarded = GuardedThread.IsCurrent;
            var started = guarded ? 0 : ApplicationClock.Enter();
            try
            {
                processing = request.ServedByServer ? _settings.ServerPages!.ServeAsync(request) : _application.ProcessRequestAsync(request);
            }
            finally
            {
                if (!guarded)
                {
                    ApplicationClock.Exit(started);
                }
            }

            await processing.ConfigureAwait(false);
            await request.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is IOException or ObjectDisposedException)
        {
            // The connection is gone: the request ends with it, and there is nobody left to answer.
        }
        catch (Exception exception)
        {
            ConnectionLog.ApplicationFailed(_settings.Logger, _id, request.Id, exception.Message);
            try
            {
                await request.FailAsync().ConfigureAwait(false);
            }
            catch (Exception closing)
            {
                // Closing the connection failed too: it is gone either way. Nothing awaits a request's run to see this.
                ConnectionLog.ConnectionFailed(_settings.Logger, _id, closing.Message);
            }
        }
        finally
        {
            // Normally EndRequestAsync released it; this is for a response that could not even be ended.
            var (released, close) = _requests.Release(request);
            if (released)
            {
                RequestEnded(request);
                close |= _requests.Settle();
            }

            request.Recycle();
            if (close)
            {
                _input.CancelPendingRead();
            }
        }
    }

    /// <inheritdoc />
    public void RunFinished(FastCgiRequestContext request) => Volatile.Write(ref _finished, request);

    /// <summary>
    /// Ends a request: frees its id first, so that a web server that reuses the id or the connection the moment it
    /// reads END_REQUEST finds them free, then sends the end of STDOUT (and STDERR) and END_REQUEST (spec 5.5).
    /// The connection stays open until that write is done.
    /// </summary>
    public async ValueTask EndRequestAsync(FastCgiRequestContext request, int appStatus)
    {
        var (released, close) = _requests.Release(request);
        if (released)
        {
            RequestEnded(request);
        }

        try
        {
            var (stdout, stderr, stderrUsed) = request.TakePendingOutput();
            await Output.EndRequestAsync(request.Id, stdout, stderr, stderrUsed, appStatus, ProtocolStatus.RequestComplete).ConfigureAwait(false);
        }
        finally
        {
            request.PendingOutputWritten();
            if (released && _requests.Settle())
            {
                close = true;
            }

            if (close)
            {
                _input.CancelPendingRead();
            }
        }
    }

    /// <summary>
    /// Ends a request whose response failed after part of it was sent: what it flushed is sent, then the connection
    /// closes without END_REQUEST, the only way FastCGI has to tell the web server a response is incomplete (spec 5.5
    /// has no status for it). The other requests on the connection are aborted, as when the connection is lost.
    /// A web server that asked to keep the connection (FCGI_KEEP_CONN) takes a close as a failure; one that did not
    /// expects the application to close after each response (spec 5.1), so that close is a reset instead.
    /// </summary>
    public async ValueTask FailRequestAsync(FastCgiRequestContext request)
    {
        try
        {
            await Output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            await Output.CloseAsync().ConfigureAwait(false);
            _requests.Close();
            AbortAll(AbortReason.ConnectionLost);
            if (!request.KeepConnection)
            {
                _resetTransport();
            }

            _input.CancelPendingRead();
        }
    }

    /// <inheritdoc />
    public void ErrorAfterEnd(FastCgiRequestContext request, string message) =>
        ConnectionLog.ErrorAfterEnd(_settings.Logger, _id, request.Id, message);

    private void RequestEnded(FastCgiRequestContext request) =>
        ConnectionLog.RequestEnded(_settings.Logger, _id, request.Id, request.AbortReason);

    private async Task ReadLoopAsync()
    {
        while (true)
        {
            // Timed for the input deadline only while a request waits for input: none does between kept requests.
            Volatile.Write(ref _readStartedAt, AnyAwaitsInput() ? _settings.TimeProvider.GetTimestamp() : long.MaxValue);
            _readPending = true;
            var result = await _input.ReadAsync().ConfigureAwait(false);
            _readPending = false;
            var buffer = result.Buffer;
            try
            {
                if (result.IsCanceled || _requests.Closing)
                {
                    return;
                }

                while (RecordReader.TryReadRecord(ref buffer, out var header, out var content))
                {
                    await ProcessRecordAsync(header, content).ConfigureAwait(false);
                    if (_requests.Closing)
                    {
                        return;
                    }
                }

                if (_ready.Count > 1)
                {
                    // Their small responses leave in one send: at the end of the batch, after them when they were deferred.
                    Output.BeginBatch();
                    if (!StartReadyRequests() || !GuardedThread.TryDefer(_endBatch))
                    {
                        await Output.EndBatchAsync().ConfigureAwait(false);
                    }
                }
                else
                {
                    StartReadyRequests();
                }

                if (result.IsCompleted)
                {
                    if (!buffer.IsEmpty)
                    {
                        ProtocolException.Throw(ProtocolRejectionReason.TruncatedRecord, buffer.Length, buffer.Length);
                    }

                    return;
                }
            }
            finally
            {
                _input.AdvanceTo(buffer.Start, buffer.End);
            }
        }
    }

    /// <summary>
    /// Whether a request may wait for input from the web server; forgets the ones that no longer can. Only the read
    /// loop moves a request's input forward, so one that waits for input while this read is pending already did when
    /// it began.
    /// </summary>
    private bool AnyAwaitsInput()
    {
        for (var i = _inputs.Count - 1; i >= 0; i--)
        {
            var request = _inputs[i];
            if (!request.AwaitsInput || request.State == RequestState.Ended)
            {
                _inputs.RemoveAt(i);
            }
        }

        return _inputs.Count > 0;
    }

    /// <summary>Requests whose application never started (PARAMS incomplete, or queued after this read) end with the connection.</summary>
    private void ReleaseUnstarted()
    {
        var unstarted = _requests.Snapshot().Where(request => request.State == RequestState.ReceivingParams || _ready.Contains(request)).ToArray();
        _ready.Clear();
        foreach (var request in unstarted)
        {
            if (_requests.Release(request).Released)
            {
                RequestEnded(request);
                _requests.Settle();
            }

            request.Recycle();
        }
    }

    private ValueTask ProcessRecordAsync(RecordHeader header, ReadOnlySequence<byte> content)
    {
        if (header.IsManagement)
        {
            return ProcessManagementAsync(header, content);
        }

        switch (header.Type)
        {
            case RecordType.BeginRequest:
                return BeginRequestAsync(header.RequestId, BeginRequestBody.ReadFrom(content));
            case RecordType.AbortRequest:
                return _requests.TryGet(header.RequestId, out var aborted) ? AbortAsync(aborted) : ValueTask.CompletedTask;
            case RecordType.Params:
                return _requests.TryGet(header.RequestId, out var request) ? ParamsAsync(request, content) : ValueTask.CompletedTask;
            case RecordType.Stdin:
                return _requests.TryGet(header.RequestId, out var stdin) && !stdin.Stdin.Ended
                    ? FeedStdinAsync(stdin, content)
                    : ValueTask.CompletedTask;
            case RecordType.Data:
                return _requests.TryGet(header.RequestId, out var data) && data.DataInput is { Ended: false } input
                    ? FeedAsync(input, content)
                    : ValueTask.CompletedTask;
            default:
                // Spec 3.3: records for request ids that are not active, and types an application does not
                // receive, are ignored.
                return ValueTask.CompletedTask;
        }
    }

    private ValueTask ProcessManagementAsync(RecordHeader header, ReadOnlySequence<byte> content)
    {
        if (header.Type != RecordType.GetValues)
        {
            return Output.UnknownTypeAsync((byte)header.Type);
        }

        // Spec 4.1: answer the names asked for that the application knows, skip the rest.
        var query = new GetValuesQuery(_settings.GetValuesAnswers, []);
        NameValueReader.Parse(content.IsSingleSegment ? content.FirstSpan : content.ToArray(), ref query);
        return Output.GetValuesResultAsync(query.Answers);
    }

    private ValueTask BeginRequestAsync(ushort requestId, BeginRequestBody body)
    {
        var refusal = _requests.TryAdmit(requestId, _takeContext, body.Role, body.KeepConnection, _application.Accepts(body.Role), out var request);
        if (refusal is { } status)
        {
            if (status is ProtocolStatus.Overloaded or ProtocolStatus.CantMultiplexConnection)
            {
                _settings.Admission.Refused(status);
            }

            return Output.RefuseAsync(requestId, status);
        }

        request!.BegunAt = _settings.TimeProvider.GetTimestamp();
        if (!_inputs.Contains(request))
        {
            _inputs.Add(request);
        }

        ConnectionLog.RequestBegun(_settings.Logger, _id, requestId, body.Role);
        return ValueTask.CompletedTask;
    }

    /// <summary>The last finished request's context when its pipes can be reused, else a new one.</summary>
    private FastCgiRequestContext TakeContext()
    {
        var request = Interlocked.Exchange(ref _finished, null);
        return request is not null && request.TryReset() ? request : new FastCgiRequestContext(this, Output, _pipeOptions);
    }

    private ValueTask ParamsAsync(FastCgiRequestContext request, ReadOnlySequence<byte> content)
    {
        if (request.State != RequestState.ReceivingParams)
        {
            return ValueTask.CompletedTask;
        }

        if (!content.IsEmpty)
        {
            if (!request.AppendParams(content, _settings.MaxParamsBytes))
            {
                ProtocolException.Throw(ProtocolRejectionReason.ParamsTooLarge, request.Id, _settings.MaxParamsBytes);
            }

            return ValueTask.CompletedTask;
        }

        request.CompleteParams(_settings.MaxParamCount, _settings.MaxParamLength);
        if (_settings.ServerPages is { } pages && request.Role == Role.Responder)
        {
            var page = pages.Serves(request);
            request.ServedByServer = page;
            if (!_requests.Settle(request, page))
            {
                // Admitted in the reserve while every slot was taken, and not a page: refused as at BEGIN_REQUEST,
                // only later (spec 5.5 puts no time on FCGI_OVERLOADED).
                _settings.Admission.Refused(ProtocolStatus.Overloaded);
                return RefuseAsync(request, ProtocolStatus.Overloaded, new IOException("The server is overloaded."));
            }
        }

        if (request.Role == Role.Authorizer)
        {
            // Spec 6.3: an authorizer gets no body; web servers differ on whether they send an empty STDIN.
            request.Stdin.End();
        }

        StartRequest(request);
        return ValueTask.CompletedTask;
    }

    private ValueTask FeedAsync(RequestInput input, ReadOnlySequence<byte> content)
    {
        var feeding = input.FeedAsync(content, out var waits);
        if (waits)
        {
            // The application has MaxBufferedInputBytes unread: it must be running to catch up, and the read loop
            // waits for it.
            StartReadyRequests();
        }

        return feeding;
    }

    private ValueTask FeedStdinAsync(FastCgiRequestContext request, ReadOnlySequence<byte> content)
    {
        var limit = _settings.MaxRequestBodyBytes;
        if (request.Stdin.Length + content.Length > limit)
        {
            // The application's next read fails (a 413 in jonpy's handler model); the rest of this body is dropped.
            request.Stdin.Count(content.Length);
            ConnectionLog.BodyTooLarge(_settings.Logger, _id, request.Id, limit);
            request.Stdin.End(new RequestBodyTooLargeException(limit));
            return ValueTask.CompletedTask;
        }

        return FeedAsync(request.Stdin, content);
    }

    /// <summary>
    /// Waits for the end of the records already read, which usually hold the whole (often empty) STDIN, so the
    /// application can start on this thread, up to its first wait, without a thread hop.
    /// </summary>
    private void StartRequest(FastCgiRequestContext request) => _ready.Add(request);

    /// <summary>
    /// Starts the requests waiting for the end of a read. One whose body is still to come runs on the thread pool,
    /// so the read loop can go on feeding it. One whose input is complete runs on this thread: on a loop thread of
    /// the epoll transport right after the read loop returns (<see cref="GuardedThread"/>), else, with one request
    /// per connection, inline (the read loop has nothing else to do meanwhile) and, multiplexed, on the thread pool
    /// (a handler that blocks must not hold up the connection's other requests).
    /// </summary>
    /// <returns>Whether any request was deferred to run after the read loop returns.</returns>
    private bool StartReadyRequests()
    {
        var deferred = false;
        foreach (var request in _ready)
        {
            request.HandOutInput();
            if (request.AwaitsInput)
            {
                ThreadPool.UnsafeQueueUserWorkItem(request.WorkItem, preferLocal: false);
            }
            else if (GuardedThread.TryDefer(request.WorkItem))
            {
                deferred = true;
            }
            else if (_settings.Multiplexed)
            {
                ThreadPool.UnsafeQueueUserWorkItem(request.WorkItem, preferLocal: false);
            }
            else
            {
                request.WorkItem.Execute();
            }
        }

        _ready.Clear();
        return deferred;
    }

    /// <summary>
    /// FCGI_ABORT_REQUEST (spec 5.4): the application sees its token fire and its body reads fail, and END_REQUEST
    /// follows when it returns. A request whose application has not started ends here.
    /// </summary>
    private ValueTask AbortAsync(FastCgiRequestContext request)
    {
        if (request.State != RequestState.ReceivingParams)
        {
            request.EndInput(new IOException("The web server aborted the request."));
            request.Abort(AbortReason.WebServer);
            return ValueTask.CompletedTask;
        }

        return RefuseAsync(request, ProtocolStatus.RequestComplete, new IOException("The web server aborted the request."));
    }

    /// <summary>Ends a request whose application never started, with END_REQUEST and <paramref name="status"/>.</summary>
    private ValueTask RefuseAsync(FastCgiRequestContext request, ProtocolStatus status, IOException inputError)
    {
        request.EndInput(inputError);
        var (released, _) = _requests.Release(request);
        if (released)
        {
            RequestEnded(request);
        }

        return EndUnstartedAsync(request, released, status);
    }

    private async ValueTask EndUnstartedAsync(FastCgiRequestContext request, bool released, ProtocolStatus status)
    {
        try
        {
            await Output.RefuseAsync(request.Id, status).ConfigureAwait(false);
        }
        finally
        {
            request.Recycle();
            if (released && _requests.Settle())
            {
                _input.CancelPendingRead();
            }
        }
    }

    /// <summary>Ends an output batch after the requests deferred in it have run.</summary>
    private sealed class EndBatchWorkItem(ConnectionOutput output) : IThreadPoolWorkItem
    {
        public void Execute() => _ = EndAsync();

        private async Task EndAsync()
        {
            try
            {
                await output.EndBatchAsync().ConfigureAwait(false);
            }
            catch (IOException)
            {
                // The connection is gone; its read loop and requests see that on their own.
            }
        }
    }

    private readonly struct GetValuesQuery(IReadOnlyDictionary<string, string> known, List<KeyValuePair<string, string>> answers) : INameValueHandler
    {
        public List<KeyValuePair<string, string>> Answers => answers;

        public void OnPair(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
        {
            var text = System.Text.Encoding.UTF8.GetString(name);
            if (known.TryGetValue(text, out var answer))
            {
                answers.Add(new(text, answer));
            }
        }
    }
}
