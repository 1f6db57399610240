namespace FastCgi;

/// <summary>
/// Application code: subclass it and override <see cref="Process"/> (synchronous, may block) or
/// <see cref="ProcessAsync"/> (asynchronous, must not block). A new instance handles each request,
/// so per-request state can live in fields.
/// </summary>
/// <example>
/// <code>
/// sealed class Hello : Handler
/// {
///     public override void Process(Request request)
///     {
///         request.SetHeader("Content-Type", "text/plain");
///         request.Write("Hello, world!\n");
///     }
/// }
/// </code>
/// </example>
public abstract class Handler
{
    // Each default calls the other; this flag turns "overrode neither" into a clear error instead of a stack overflow.
    private bool _inDefaultProcess;

    /// <summary>
    /// Handles the request synchronously. The default runs <see cref="ProcessAsync"/> and waits for it.
    /// </summary>
    public virtual void Process(Request request)
    {
        ArgumentNullException.ThrowIfNull(request);
        _inDefaultProcess = true;
        try
        {
            ProcessAsync(request, request.RequestAborted).AsTask().GetAwaiter().GetResult();
        }
        finally
        {
            _inDefaultProcess = false;
        }
    }

    /// <summary>
    /// Handles the request asynchronously. <paramref name="cancellationToken"/> fires when the request is
    /// aborted (FCGI_ABORT_REQUEST or a lost connection). The default calls <see cref="Process"/>: under FastCGI on
    /// a thread the library keeps for handlers that block, so that a blocking <see cref="Process"/> holds up no
    /// other request; under CGI on the calling thread.
    /// </summary>
    public virtual ValueTask ProcessAsync(Request request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (_inDefaultProcess)
        {
            throw new InvalidOperationException($"{GetType().Name} must override Process or ProcessAsync.");
        }

        // On a loop thread of the epoll transport a blocking Process is made up for (the loop is replaced), so it
        // runs right there; anywhere else it would hold up a thread pool thread.
        if (request.ProcessOnHandlerThread && !FastCgi.Connection.GuardedThread.IsCurrent)
        {
            return HandlerThreads.RunAsync(this, request);
        }

        Process(request);
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Called when <see cref="Process"/> or <see cref="ProcessAsync"/> throws (jonpy's <c>traceback</c>).
    /// The default logs the exception to the error log and sends the generic error page.
    /// </summary>
    public virtual void Traceback(Request request, Exception exception)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Traceback(exception);
    }
}

/// <summary>
/// A <see cref="Handler"/> whose error page shows the exception's details to the client. For development only:
/// the details can reveal secrets.
/// </summary>
public abstract class DebugHandler : Handler
{
    /// <inheritdoc />
    public override void Traceback(Request request, Exception exception)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Traceback(exception, showDetails: true);
    }
}
