using System.Runtime.ExceptionServices;
using System.Text;
using FastCgi.Cgi;
using FastCgi.Cgi.Cookies;
using FastCgi.Cgi.Forms;
using FastCgi.Cgi.Output;

namespace FastCgi;

/// <summary>
/// One request and its response, whatever the protocol (CGI, FastCGI...): the CGI meta-variables, the body, the
/// form and cookies, and the response's headers and body. Handler code sees only this class, so it runs unchanged
/// under every protocol. A request is used by one handler at a time; it is not thread-safe.
/// </summary>
/// <remarks>
/// Subclasses supply the transport through the protected <c>Transport*</c> members. Output goes
/// headers → (optional gzip) → transport; with buffering on (the default) nothing is sent until <see cref="Flush"/>
/// or <see cref="Close"/>, so headers and the error page can still be replaced.
/// </remarks>
public abstract partial class Request : IDisposable
{
    private Form? _form;
    private ExceptionDispatchInfo? _formError;
    private IReadOnlyDictionary<string, string>? _cookies;
    private Encoding _formEncoding = Encoding.UTF8;

    /// <summary>Creates a request.</summary>
    protected Request()
    {
        _headers.Add("Content-Type", DefaultContentType);
        _response = new ResponseWriter(this, _headers);
    }

    /// <summary>The CGI meta-variables (<c>REQUEST_METHOD</c>, <c>QUERY_STRING</c>, <c>HTTP_*</c>...).</summary>
    public abstract IReadOnlyDictionary<string, string> Environ { get; }

    /// <summary>The request body (jonpy's <c>stdin</c>), readable while the web server is still sending it.</summary>
    public abstract Stream Body { get; }

    /// <summary>
    /// The file a FastCGI Filter works on (FCGI_DATA), readable while the web server is still sending it; empty for
    /// the other roles and under CGI, which has no such stream.
    /// </summary>
    public virtual Stream Data => Stream.Null;

    /// <summary>The limits that apply to this request's form, body and cookies.</summary>
    public RequestLimits Limits { get; set; } = RequestLimits.Default;

    /// <summary>
    /// Whether a synchronous handler's <see cref="Handler.Process"/> runs on a handler thread (a server, whose other
    /// requests it must not hold up) rather than on the calling thread (CGI, one request per process).
    /// </summary>
    internal bool ProcessOnHandlerThread { get; set; }

    /// <summary>Whether and why the request was aborted. Writes after an abort are dropped.</summary>
    public AbortReason Aborted { get; private set; }

    /// <summary>Fires when the request is aborted. Valid until the request is disposed.</summary>
    public CancellationToken RequestAborted => _abortSource?.Token ?? _transportAbortToken;

    private CancellationTokenSource? _abortSource;
    private CancellationToken _transportAbortToken;

    /// <summary>
    /// A CGI meta-variable, or <c>null</c> when the web server did not send it.
    /// </summary>
    public string? GetEnvironment(string name) => Environ.TryGetValue(name, out var value) ? value : null;

    /// <summary>
    /// The form (jonpy's <c>params</c>), parsed on first access: the query string plus, for a body of type
    /// <c>application/x-www-form-urlencoded</c> or <c>multipart/form-data</c>, the body. An asynchronous handler
    /// should <c>await</c> <see cref="ReadFormAsync"/> instead, which fills this property without blocking.
    /// </summary>
    /// <exception cref="RequestRejectedException">
    /// The form is over a limit (413) or malformed (400); every later access throws the same error.
    /// </exception>
    public Form Params => _form ?? ReadFormAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();

    /// <summary>Parses the form if not yet parsed; see <see cref="Params"/>.</summary>
    /// <exception cref="RequestRejectedException">The form is over a limit (413) or malformed (400).</exception>
    public async ValueTask<Form> ReadFormAsync(CancellationToken cancellationToken = default)
    {
        // The failed parse consumed the body, so a second parse would see a different (empty or truncated) body.
        _formError?.Throw();
        if (_form is null)
        {
            try
            {
                _form = await FormReader.ReadAsync(Environ, Body, _formEncoding, Limits, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                _formError = ExceptionDispatchInfo.Capture(exception);
                throw;
            }
        }

        return _form;
    }

    /// <summary>The cookies from <c>HTTP_COOKIE</c>, name → value (percent-decoded).</summary>
    public IReadOnlyDictionary<string, string> Cookies => _cookies ??= CookieParser.Parse(GetEnvironment("HTTP_COOKIE"), Limits);

    /// <summary>The encoding that decodes form names and values (jonpy's <c>set_form_encoding</c>). Default UTF-8.</summary>
    /// <exception cref="SequencingException">Set after the form or <see cref="Query"/> was parsed, or the form failed to parse.</exception>
    public Encoding FormEncoding
    {
        get => _formEncoding;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            if (_form is not null || _formError is not null || _query is not null)
            {
                throw new SequencingException("The form encoding cannot change after the form was parsed.");
            }

            _formEncoding = value;
        }
    }

    /// <summary>
    /// Writes a message to the web server's error log (stderr under CGI, FCGI_STDERR under FastCGI), never to
    /// the client. A line break is added when the message has none.
    /// </summary>
    public void Error(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (!message.EndsWith('\n'))
        {
            message += "\n";
        }

        TransportWriteError(message);
    }

    /// <summary>Marks the request aborted: the token fires, and later writes are dropped.</summary>
    protected void Abort(AbortReason reason)
    {
        if (Aborted != AbortReason.None || reason == AbortReason.None)
        {
            return;
        }

        Aborted = reason;
        if (_abortSource is null)
        {
            if (_transportAbortToken.CanBeCanceled)
            {
                TransportAbort(reason);
            }

            return;
        }

        try
        {
            _abortSource.Cancel();
        }
        catch (AggregateException)
        {
            // A callback registered by the application threw; the abort itself still stands.
        }
    }

    /// <summary>
    /// Makes <see cref="RequestAborted"/> cancellable. Transports that can see an abort call this before the
    /// handler runs.
    /// </summary>
    protected void EnableAbortToken() => _abortSource ??= new CancellationTokenSource();

    /// <summary>
    /// Makes <see cref="RequestAborted"/> the transport's own token instead of a source of the request's: the transport
    /// calls <see cref="Abort"/> before it fires the token (so that its callbacks see <see cref="Aborted"/> set), and
    /// an abort the request finds itself (a lost connection on write) goes to <see cref="TransportAbort"/>.
    /// </summary>
    private protected void EnableAbortToken(CancellationToken token) => _transportAbortToken = token;

    /// <summary>Fires the transport's token given to <see cref="EnableAbortToken(CancellationToken)"/>.</summary>
    private protected virtual void TransportAbort(AbortReason reason)
    {
    }

    /// <summary>Releases the form's temporary files and the output buffer.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases resources; subclasses release theirs and call the base.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            _form?.Dispose();
            _form = null;
            _query?.Dispose();
            _query = null;
            // Forgotten, not just disposed: an abort can still arrive from the transport after the request is done.
            _abortSource?.Dispose();
            _abortSource = null;
            _transportAbortToken = CancellationToken.None;
            _response.Dispose();
        }
    }

    /// <summary>Writes text to the transport's error stream.</summary>
    protected abstract void TransportWriteError(string message);
}
