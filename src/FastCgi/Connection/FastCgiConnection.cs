using System.Buffers;
using System.IO.Pipelines;
using FastCgi.Cgi;
using FastCgi.Protocol;

namespace FastCgi.Connection;

/// <summary>
/// One web server connection: reads records, demultiplexes them by request id (spec 3.3), starts a handler when a
/// request's PARAMS end, feeds STDIN and DATA to it, and ends the connection when the web server or the protocol
/// says so. Protocol violations close the connection; request-level refusals are END_REQUEST records.
/// </summary>
internal sealed class FastCgiConnection
{
    private readonly PipeReader _input;
    private readonly ServerContext _server;
    private readonly Dictionary<ushort, RequestContext> _requests = [];
    private readonly Lock _requestsLock = new();
    private readonly long _id;
    private TaskCompletionSource? _requestsDone;
    private int _inFlight;

    // The last finished request's context, for the next BEGIN_REQUEST to reuse (saves its pipes on a kept connection).
    private RequestContext? _finished;

    // Requests whose PARAMS ended in the records being processed, started after them (see StartRequest).
    private readonly List<RequestContext> _ready = [];
    private volatile bool _closing;
    private bool _stopRequested;

    private readonly Action _abortTransport;
    private readonly Action _resetTransport;
    private readonly long _openedAt = Environment.TickCount64;
    private long _readStartedAt;
    private volatile bool _readPending;
    private bool _begun;
    private int _timedOut;
    private long _idleSince = Environment.TickCount64;

    /// <param name="input">What the web server sends.</param>
    /// <param name="output">Where the records go.</param>
    /// <param name="server">The server's options, handlers and limits.</param>
    /// <param name="id">The connection's id in the log.</param>
    /// <param name="abortTransport">Closes the transport (a timeout).</param>
    /// <param name="resetTransport">Closes the transport abortively, a TCP reset (a response failed half-way); by default as <paramref name="abortTransport"/>.</param>
    public FastCgiConnection(PipeReader input, PipeWriter output, ServerContext server, long id, Action abortTransport, Action? resetTransport = null)
    {
        _input = input;
        Output = new ConnectionOutput(output);
        _server = server;
        _id = id;
        _abortTransport = abortTransport;
        _resetTransport = resetTransport ?? abortTransport;
    }

    public ConnectionOutput Output { get; }

    /// <summary>When the connection last became idle (<see cref="Environment.TickCount64"/>); while busy, the maximum.</summary>
    public long IdleSince
    {
        get
        {
            lock (_requestsLock)
            {
                return _inFlight > 0 || _closing ? long.MaxValue : _idleSince;
            }
        }
    }

    /// <summary>Whether <see cref="TryCloseIdle"/> closed the connection.</summary>
    public bool Evicted { get; private set; }

    /// <summary>
    /// Closes the connection if no request is in flight on it, to make room for a new one at FCGI_MAX_CONNS. With
    /// KEEP_CONN the web server owns the connection's lifetime (spec, Requests 4); this exception at the limit beats
    /// leaving a new connection unserved, and web servers reconnect when a kept connection closes between requests.
    /// </summary>
    public bool TryCloseIdle()
    {
        lock (_requestsLock)
        {
            if (_inFlight > 0 || _closing)
            {
                return false;
            }

            _closing = true;
            Evicted = true;
        }

        Log.Evicted(_server.Logger, _id);
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
            Log.ProtocolError(_server.Logger, _id, exception.Reason, exception.Message);
        }
        catch (Exception exception) when (exception is IOException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
            if (Volatile.Read(ref _timedOut) == 0)
            {
                Log.ConnectionFailed(_server.Logger, _id, exception.Message);
            }
        }
        catch (OperationCanceledException)
        {
            // The server is shutting down.
        }
        finally
        {
            await _input.CompleteAsync().ConfigureAwait(false);
            AbortAll(AbortReason.ConnectionLost, completeInput: true);
            ReleaseUnstarted();
            await WaitForRequestsAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Asks the connection to end once its requests are done; an idle connection ends at once. New requests are
    /// refused with FCGI_OVERLOADED meanwhile.
    /// </summary>
    public void RequestStop()
    {
        lock (_requestsLock)
        {
            _stopRequested = true;
            if (_inFlight > 0)
            {
                return;
            }
        }

        _input.CancelPendingRead();
    }

    /// <summary>
    /// Called about once a second by the server: closes the connection when the web server keeps a request
    /// waiting for input too long (a slow-loris PARAMS stream, a stalled body, a connection that never sends a
    /// request) or stops reading the response (<see cref="FastCgiServerLimits.WriteTimeout"/>).
    /// </summary>
    public void CheckTimeouts(long now)
    {
        var limits = _server.Options.Limits;
        var input = (long)limits.InputTimeout.TotalMilliseconds;
        string? expired = null;
        lock (_requestsLock)
        {
            if (!_begun && now - _openedAt > input)
            {
                expired = "no request arrived";
            }

            foreach (var context in _requests.Values)
            {
                if (!context.ParamsComplete && now - context.BegunAt > input)
                {
                    expired = $"request {context.RequestId} did not finish its PARAMS";
                }
                else if (context.AwaitsInput && _readPending && now - _readStartedAt > input)
                {
                    expired = $"request {context.RequestId} waited for input";
                }
            }
        }

        if (expired is null && Output.FlushingSince is var since and > 0 && now - since > (long)limits.WriteTimeout.TotalMilliseconds)
        {
            expired = "the web server stopped reading the response";
        }

        if (expired is not null && Interlocked.Exchange(ref _timedOut, 1) == 0)
        {
            Log.TimedOut(_server.Logger, _id, expired);
            _abortTransport();
        }
    }

    /// <summary>
    /// Aborts every request in flight. Only the read loop completes the input pipes (<paramref name="completeInput"/>),
    /// since a pipe's writer has one owner.
    /// </summary>
    public void AbortAll(AbortReason reason, bool completeInput)
    {
        RequestContext[] active;
        lock (_requestsLock)
        {
            active = [.. _requests.Values];
        }

        foreach (var context in active)
        {
            context.Request?.AbortFromServer(reason);
            if (completeInput)
            {
                context.CompleteInput(new IOException("The web server connection was lost."));
            }
        }
    }

    private async Task ReadLoopAsync()
    {
        while (true)
        {
            _readStartedAt = Environment.TickCount64;
            _readPending = true;
            var result = await _input.ReadAsync().ConfigureAwait(false);
            _readPending = false;
            var buffer = result.Buffer;
            try
            {
                if (result.IsCanceled || _closing)
                {
                    return;
                }

                while (RecordReader.TryReadRecord(ref buffer, out var header, out var content))
                {
                    await ProcessRecordAsync(header, content).ConfigureAwait(false);
                    if (_closing)
                    {
                        return;
                    }
                }

                if (_ready.Count > 1)
                {
                    Output.BeginBatch();
                    StartReadyRequest();
                    await Output.EndBatchAsync().ConfigureAwait(false);
                }
                else
                {
                    StartReadyRequest();
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

    /// <summary>Requests whose handler never started (PARAMS incomplete) end with the connection.</summary>
    private void ReleaseUnstarted()
    {
        RequestContext[] unstarted;
        lock (_requestsLock)
        {
            unstarted = [.. _requests.Values.Where(context => context.Request is null || _ready.Contains(context))];
        }

        _ready.Clear();

        foreach (var context in unstarted)
        {
            context.Request?.Dispose();
            context.ReturnParams();
            if (Release(context).Released)
            {
                Settle();
            }
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
                return TryGetRequest(header.RequestId, out var aborted) ? AbortAsync(aborted) : ValueTask.CompletedTask;
            case RecordType.Params:
                return TryGetRequest(header.RequestId, out var context) ? ParamsAsync(context, content) : ValueTask.CompletedTask;
            case RecordType.Stdin:
                return TryGetRequest(header.RequestId, out var stdin) && !stdin.StdinComplete
                    ? FeedStdinAsync(stdin, content)
                    : ValueTask.CompletedTask;
            case RecordType.Data:
                if (TryGetRequest(header.RequestId, out var data) && data.Data is not null && !data.DataComplete)
                {
                    data.DataComplete = content.IsEmpty;
                    return FeedAsync(data.Data.Writer, content);
                }

                return ValueTask.CompletedTask;
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
        var query = new GetValuesQuery(_server.GetValuesAnswers, []);
        NameValueReader.Parse(content.IsSingleSegment ? content.FirstSpan : content.ToArray(), ref query);
        return Output.GetValuesResultAsync(query.Answers);
    }

    private ValueTask BeginRequestAsync(ushort requestId, BeginRequestBody body)
    {
        var role = body.Role;
        lock (_requestsLock)
        {
            if (_requests.ContainsKey(requestId))
            {
                ProtocolException.Throw(ProtocolRejectionReason.RequestIdInUse, requestId);
            }

            if (_requests.Count >= _server.MaxRequestsPerConnection)
            {
                // Spec 5.5: an application that does not multiplex refuses a second request with CANT_MPX_CONN.
                return Output.RefuseAsync(requestId, _server.Multiplexed ? ProtocolStatus.Overloaded : ProtocolStatus.CantMultiplexConnection);
            }

            if (_server.GetHandlerFactory(role) is null)
            {
                return Output.RefuseAsync(requestId, ProtocolStatus.UnknownRole);
            }

            if (_stopRequested || !_server.TryBeginRequest())
            {
                return Output.RefuseAsync(requestId, ProtocolStatus.Overloaded);
            }

            var context = Interlocked.Exchange(ref _finished, null);
            if (context is null || !context.TryReset())
            {
                context = new RequestContext(this, _server.Options.Limits.MaxBufferedInputBytes, inline: !_server.Multiplexed);
            }

            context.Begin(requestId, role, body.KeepConnection);
            _requests.Add(requestId, context);
            _inFlight++;
            _begun = true;
        }

        Log.RequestBegun(_server.Logger, _id, requestId, role);
        return ValueTask.CompletedTask;
    }

    private ValueTask ParamsAsync(RequestContext context, ReadOnlySequence<byte> content)
    {
        if (context.ParamsComplete)
        {
            return ValueTask.CompletedTask;
        }

        if (!content.IsEmpty)
        {
            if (!context.AppendParams(content, _server.Options.Limits.MaxParamsBytes))
            {
                ProtocolException.Throw(ProtocolRejectionReason.ParamsTooLarge, context.RequestId, _server.Options.Limits.MaxParamsBytes);
            }

            return ValueTask.CompletedTask;
        }

        context.CompleteParams(_server.Options.Limits);
        if (context.Role == Role.Authorizer)
        {
            // Spec 6.3: an authorizer gets no body; web servers differ on whether they send an empty STDIN.
            context.StdinComplete = true;
            context.Stdin.Writer.Complete();
        }

        StartRequest(context);
        return ValueTask.CompletedTask;
    }

    private ValueTask FeedAsync(PipeWriter writer, ReadOnlySequence<byte> content)
    {
        if (content.IsEmpty)
        {
            writer.Complete();
            return ValueTask.CompletedTask;
        }

        try
        {
            foreach (var segment in content)
            {
                writer.Write(segment.Span);
            }

            var flush = writer.FlushAsync();
            if (flush.IsCompleted)
            {
                flush.GetAwaiter().GetResult();
                return ValueTask.CompletedTask;
            }

            // The handler has MaxBufferedInputBytes unread: it must be running to catch up, and the read loop waits
            // for it, which slows the web server instead of growing memory.
            StartReadyRequest();
            return AwaitFlushAsync(flush);
        }
        catch (InvalidOperationException)
        {
            // The stream was already ended (an aborted request, or an empty record came twice); the bytes are dropped.
            return ValueTask.CompletedTask;
        }
    }

    private static async ValueTask AwaitFlushAsync(ValueTask<FlushResult> flush)
    {
        try
        {
            await flush.ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            // Ended meanwhile; the bytes are dropped.
        }
    }

    private ValueTask FeedStdinAsync(RequestContext context, ReadOnlySequence<byte> content)
    {
        context.StdinComplete = content.IsEmpty;
        context.BodyBytes += content.Length;
        var limit = _server.Options.Limits.MaxRequestBodyBytes;
        if (context.BodyBytes > limit)
        {
            // The handler's next read fails with a 413; the rest of this body is dropped.
            context.StdinComplete = true;
            Log.BodyTooLarge(_server.Logger, _id, context.RequestId, limit);
            context.Stdin.Writer.Complete(Cgi.RequestRejection.Create(RequestRejectionReason.RequestBodyTooLarge, limit));
            return ValueTask.CompletedTask;
        }

        return FeedAsync(context.Stdin.Writer, content);
    }

    private void StartRequest(RequestContext context)
    {
        context.Request = _server.Options.GZip ? new GZipFastCgiRequest(context, Output) : new FastCgiRequest(context, Output);
        context.Request.Limits = _server.Options.RequestLimits;
        context.Request.ProcessOnHandlerThread = true;
        if (_server.Multiplexed && !_server.Options.InlineCompletions)
        {
            // The handler runs beside the read loop, which goes on with other requests' records.
            ThreadPool.UnsafeQueueUserWorkItem(context, preferLocal: false);
            return;
        }

        // One request at a time (levels 0 and 1), or handlers that never block (InlineCompletions): wait for the
        // end of the records already read, which usually hold the whole (often empty) STDIN, so the handler can
        // run right here, up to its first wait, without a thread hop.
        _ready.Add(context);
    }

    /// <summary>
    /// Starts the request waiting for the end of a read: inline when its input is complete (the handler cannot
    /// wait on the read loop), otherwise on the thread pool so the read loop can go on feeding its body.
    /// </summary>
    private void StartReadyRequest()
    {
        if (_ready.Count == 0)
        {
            return;
        }

        foreach (var context in _ready)
        {
            if (context.AwaitsInput)
            {
                ThreadPool.UnsafeQueueUserWorkItem(context, preferLocal: false);
            }
            else
            {
                _ = RunRequestAsync(context);
            }
        }

        _ready.Clear();
    }

    /// <summary>Runs a request's handler and ends the request, whatever happens.</summary>
    public async Task RunRequestAsync(RequestContext context)
    {
        var request = context.Request!;
        try
        {
            await HandlerRunner.RunAsync(_server.GetHandlerFactory(context.Role)!, request).ConfigureAwait(false);
        }
        finally
        {
            request.Dispose();

            // Normally EndRequestAsync released it; this is for a response that could not even be ended.
            if (Release(context).Released)
            {
                Settle();
            }

            Volatile.Write(ref _finished, context);
        }
    }

    /// <summary>
    /// Ends a request: frees its id first, so that a web server that reuses the id or the connection the moment it
    /// reads END_REQUEST finds them free, then sends the end of STDOUT (and STDERR) and END_REQUEST (spec 5.5).
    /// The connection stays open until that write is done.
    /// </summary>
    public async ValueTask EndRequestAsync(RequestContext context, bool stderrUsed, int appStatus)
    {
        var (released, close) = Release(context);
        try
        {
            await Output.EndRequestAsync(context.RequestId, stderrUsed, appStatus, ProtocolStatus.RequestComplete).ConfigureAwait(false);
        }
        finally
        {
            if (released)
            {
                Settle();
            }

            if (close)
            {
                _input.CancelPendingRead();
            }
        }
    }

    /// <summary>
    /// Ends a request whose response failed after part of it was sent: what it wrote is sent, then the connection
    /// closes without END_REQUEST, the only way FastCGI has to tell the web server a response is incomplete (spec 5.5
    /// has no status for it). The other requests on the connection are aborted, as when the connection is lost.
    /// A web server that asked to keep the connection (FCGI_KEEP_CONN) takes a close as a failure; one that did not
    /// expects the application to close after each response (spec 5.1), so that close is a reset instead.
    /// </summary>
    public async ValueTask FailRequestAsync(RequestContext context)
    {
        try
        {
            await Output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            await Output.CloseAsync().ConfigureAwait(false);
            _closing = true;
            AbortAll(AbortReason.ConnectionLost, completeInput: false);
            if (!context.KeepConnection)
            {
                _resetTransport();
            }

            _input.CancelPendingRead();
        }
    }

    /// <summary>Logs what a request wrote to its error stream after its END_REQUEST, which may carry nothing more.</summary>
    public void LogErrorAfterEnd(ushort requestId, string message) => Log.ErrorAfterEnd(_server.Logger, _id, requestId, message.TrimEnd('\n'));

    /// <summary>
    /// Takes the request off the connection, once. Returns whether this call did it, and whether the connection
    /// should end now.
    /// </summary>
    private (bool Released, bool Close) Release(RequestContext context)
    {
        bool close;
        lock (_requestsLock)
        {
            if (!_requests.TryGetValue(context.RequestId, out var current) || current != context)
            {
                return (false, false);
            }

            _requests.Remove(context.RequestId);
            if (!context.KeepConnection)
            {
                // Spec 5.1: without FCGI_KEEP_CONN the application closes the connection after the request.
                _closing = true;
            }

            close = _closing || (_stopRequested && _requests.Count == 0);
        }

        _server.EndRequest();
        Log.RequestEnded(_server.Logger, _id, context.RequestId, context.Request?.Aborted ?? AbortReason.None);
        return (true, close);
    }

    /// <summary>A released request's last write is done; the connection may close once none is left.</summary>
    private void Settle()
    {
        lock (_requestsLock)
        {
            if (--_inFlight == 0)
            {
                _idleSince = Environment.TickCount64;
                _requestsDone?.TrySetResult();
            }
        }
    }

    /// <summary>
    /// FCGI_ABORT_REQUEST (spec 5.4): the handler sees <see cref="Request.Aborted"/> and its token fire, its body
    /// reads fail, and END_REQUEST follows when it returns. A request whose handler has not started ends here.
    /// </summary>
    private ValueTask AbortAsync(RequestContext context)
    {
        context.CompleteInput(new IOException("The web server aborted the request."));
        if (context.Request is not null)
        {
            context.Request.AbortFromServer(AbortReason.WebServer);
            return ValueTask.CompletedTask;
        }

        context.ReturnParams();
        var (released, _) = Release(context);
        return EndAbortedAsync(context, released);
    }

    private async ValueTask EndAbortedAsync(RequestContext context, bool released)
    {
        try
        {
            await Output.RefuseAsync(context.RequestId, ProtocolStatus.RequestComplete).ConfigureAwait(false);
        }
        finally
        {
            if (released)
            {
                Settle();
            }
        }
    }

    private bool TryGetRequest(ushort requestId, out RequestContext context)
    {
        lock (_requestsLock)
        {
            return _requests.TryGetValue(requestId, out context!);
        }
    }

    private Task WaitForRequestsAsync()
    {
        lock (_requestsLock)
        {
            if (_inFlight == 0)
            {
                return Task.CompletedTask;
            }

            _requestsDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
            return _requestsDone.Task;
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
