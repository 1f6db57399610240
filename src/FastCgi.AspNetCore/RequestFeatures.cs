using System.Collections;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Features.Authentication;
using Microsoft.AspNetCore.WebUtilities;

namespace FastCgi.AspNetCore;

/// <summary>What the server holds for all requests: the options each request's features read.</summary>
internal sealed record ServerSettings(long? MaxRequestBodySize, bool UseRemoteUser, string? AuthorizerPath, bool IsCgi)
{
    /// <summary>Makes request ids unique across processes behind one web server, as Kestrel's connection ids are.</summary>
    public string TracePrefix { get; } = "FCGI" + Convert.ToHexString(BitConverter.GetBytes(Random.Shared.Next()));

    private long _requests;

    public long NextRequestNumber() => Interlocked.Increment(ref _requests);
}

/// <summary>
/// One request's ASP.NET Core features, all in one object as Kestrel does: the request mapped from its CGI
/// variables (RFC 3875 4.1), the body pipes, and the response written as a CGI response (RFC 3875 6) to the
/// FastCGI STDOUT stream or a CGI program's standard output. Features the application or middleware set replace
/// these in a small side table.
/// </summary>
internal sealed class RequestFeatures :
    IFeatureCollection,
    IHttpRequestFeature,
    IHttpConnectionFeature,
    IHttpRequestIdentifierFeature,
    IHttpRequestBodyDetectionFeature,
    IRequestBodyPipeFeature,
    IHttpMaxRequestBodySizeFeature,
    IHttpRequestLifetimeFeature,
    IHttpResponseFeature,
    IHttpResponseBodyFeature,
    IHttpBodyControlFeature,
    IHttpAuthenticationFeature,
    IHttpUpgradeFeature,
    IFastCgiFeature
{
    private static readonly Encoding Latin1 = Encoding.Latin1;

    private readonly ServerSettings _settings;
    private readonly CancellationToken _transportAborted;
    private readonly FastCgiRequestContext _context;
    private readonly PipeReader _data;
    private Dictionary<Type, object?>? _replaced;
    private int _revision;
    private IHeaderDictionary? _requestHeaders;
    private Stream? _requestBody;
    private PipeReader? _requestReader;
    private Stream? _adaptedStream;
    private PipeReader? _adaptedReader;
    private ResponseBodyWriter? _responseWriter;
    private Stream? _responseStream;
    private Stream? _responseBodyOverride;
    private List<(Func<object, Task> Callback, object State)>? _onStarting;
    private List<(Func<object, Task> Callback, object State)>? _onCompleted;
    private CancellationTokenSource? _abortSource;
    private CancellationToken? _requestAborted;
    private bool _abortRequested;
    private string? _traceIdentifier;
    private string? _connectionId;
    private ClaimsPrincipal? _user;
    private bool _userMade;
    private bool _bodyReadStarted;
    private long? _maxRequestBodySize;
    private int _statusCode = StatusCodes.Status200OK;

    public RequestFeatures(
        ServerSettings settings,
        IReadOnlyDictionary<string, string> environ,
        PipeReader body,
        PipeWriter output,
        FastCgiRequestContext context,
        CancellationToken aborted)
    {
        _settings = settings;
        _context = context;
        _transportAborted = aborted;
        _data = context.Data;
        Params = environ;
        Output = output;
        RequestBodyPipe = body;
        _maxRequestBodySize = settings.MaxRequestBodySize;
        Role = context.Role;
        Method = environ.GetValueOrDefault("REQUEST_METHOD") is { Length: > 0 } method ? method : HttpMethods.Get;
        Protocol = environ.GetValueOrDefault("SERVER_PROTOCOL") is { Length: > 0 } protocol ? protocol : "HTTP/1.1";
        Scheme = CgiRequestMapping.Scheme(environ);
        (PathBase, Path, QueryString, RawTarget) = CgiRequestMapping.Target(environ);
        if (Role == Role.Authorizer && settings.AuthorizerPath is { } authorizerPath)
        {
            // One endpoint answers the authorizer requests; RawTarget keeps the request being authorized.
            (PathBase, Path) = ("", authorizerPath);
        }

        SuppressBody = HttpMethods.IsHead(Method);
        CanHaveBody = CgiRequestMapping.ContentLength(environ) is > 0 || environ.ContainsKey("HTTP_TRANSFER_ENCODING");
    }

    /// <summary>The output the response goes to: the request's STDOUT pipe, or a CGI program's standard output.</summary>
    public PipeWriter Output { get; }

    /// <summary>Whether writes to the body are dropped (a HEAD response has none, RFC 9110 9.3.2).</summary>
    public bool SuppressBody { get; }

    public long? MaxRequestBodySizeValue => _maxRequestBodySize;

    private PipeReader RequestBodyPipe { get; }

    // IFeatureCollection

    public bool IsReadOnly => false;

    public int Revision => _revision;

    public object? this[Type key]
    {
        get => _replaced is not null && _replaced.TryGetValue(key, out var replaced) ? replaced : Own(key);
        set
        {
            (_replaced ??= [])[key] = value;
            _revision++;
        }
    }

    public TFeature? Get<TFeature>() => (TFeature?)this[typeof(TFeature)];

    public void Set<TFeature>(TFeature? instance) => this[typeof(TFeature)] = instance;

    public IEnumerator<KeyValuePair<Type, object>> GetEnumerator()
    {
        foreach (var type in OwnTypes)
        {
            if (this[type] is { } feature)
            {
                yield return new(type, feature);
            }
        }

        foreach (var (type, feature) in _replaced ?? [])
        {
            if (feature is not null && Own(type) is null)
            {
                yield return new(type, feature);
            }
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    // IHttpRequestFeature

    public string Protocol { get; set; }

    public string Scheme { get; set; }

    public string Method { get; set; }

    public string PathBase { get; set; }

    public string Path { get; set; }

    public string QueryString { get; set; }

    public string RawTarget { get; set; }

    IHeaderDictionary IHttpRequestFeature.Headers
    {
        get => _requestHeaders ??= CgiRequestMapping.Headers(Params);
        set => _requestHeaders = value;
    }

    Stream IHttpRequestFeature.Body
    {
        get => _requestBody ??= new BodyStream(this, RequestReader, null);
        set => _requestBody = value;
    }

    // IRequestBodyPipeFeature: the body pipe, unless middleware replaced the body stream (EnableBuffering).

    PipeReader IRequestBodyPipeFeature.Reader
    {
        get
        {
            if (_requestBody is null or BodyStream)
            {
                return RequestReader;
            }

            if (_adaptedStream != _requestBody)
            {
                _adaptedStream = _requestBody;
                _adaptedReader = PipeReader.Create(_requestBody, new StreamPipeReaderOptions(leaveOpen: true));
            }

            return _adaptedReader!;
        }
    }

    // IHttpRequestBodyDetectionFeature

    public bool CanHaveBody { get; }

    // IHttpMaxRequestBodySizeFeature

    bool IHttpMaxRequestBodySizeFeature.IsReadOnly => _bodyReadStarted;

    public long? MaxRequestBodySize
    {
        get => _maxRequestBodySize;
        set
        {
            if (_bodyReadStarted)
            {
                throw new InvalidOperationException("The maximum request body size cannot be changed after the body has been read from.");
            }

            ArgumentOutOfRangeException.ThrowIfNegative(value ?? 0, nameof(MaxRequestBodySize));
            _maxRequestBodySize = value;
        }
    }

    // IHttpConnectionFeature

    public string ConnectionId
    {
        get => _connectionId ??= TraceIdentifier;
        set => _connectionId = value;
    }

    public IPAddress? RemoteIpAddress { get; set; }

    public IPAddress? LocalIpAddress { get; set; }

    public int RemotePort { get; set; }

    public int LocalPort { get; set; }

    // IHttpRequestIdentifierFeature

    public string TraceIdentifier
    {
        get => _traceIdentifier ??= _settings.TracePrefix + ":" + _settings.NextRequestNumber().ToString("X8", CultureInfo.InvariantCulture);
        set => _traceIdentifier = value;
    }

    // IHttpRequestLifetimeFeature

    public CancellationToken RequestAborted
    {
        get
        {
            if (_requestAborted is { } token)
            {
                return token;
            }

            // A linked source, never the transport's token itself: the connection reuses that for its next request.
            _abortSource = CancellationTokenSource.CreateLinkedTokenSource(_transportAborted);
            if (_abortRequested)
            {
                _abortSource.Cancel();
            }

            _requestAborted = _abortSource.Token;
            return _requestAborted.Value;
        }

        set => _requestAborted = value;
    }

    /// <summary>Whether the web server aborted the request or its connection was lost.</summary>
    public bool TransportAborted => _transportAborted.IsCancellationRequested;

    /// <summary>Whether <see cref="Abort"/> was called: the request ends as failed (the web server sees a broken response).</summary>
    public bool AbortRequested => _abortRequested;

    public void Abort()
    {
        _abortRequested = true;
        _abortSource?.Cancel();
    }

    // IHttpResponseFeature

    public int StatusCode
    {
        get => _statusCode;
        set
        {
            ThrowIfStarted(nameof(StatusCode));
            _statusCode = value;
        }
    }

    public string? ReasonPhrase
    {
        get;
        set
        {
            ThrowIfStarted(nameof(ReasonPhrase));
            field = value;
        }
    }

    public IHeaderDictionary ResponseHeaders { get; set; } = new HeaderDictionary();

    IHeaderDictionary IHttpResponseFeature.Headers
    {
        get => ResponseHeaders;
        set => ResponseHeaders = value;
    }

    [Obsolete("Use IHttpResponseBodyFeature.Stream.")]
    Stream IHttpResponseFeature.Body
    {
        get => _responseBodyOverride ?? Stream;
        set => _responseBodyOverride = value;
    }

    public bool HasStarted { get; private set; }

    public void OnStarting(Func<object, Task> callback, object state)
    {
        ThrowIfStarted(nameof(OnStarting));
        (_onStarting ??= []).Add((callback, state));
    }

    public void OnCompleted(Func<object, Task> callback, object state) => (_onCompleted ??= []).Add((callback, state));

    // IHttpResponseBodyFeature

    public Stream Stream => _responseStream ??= new BodyStream(this, null, Writer);

    public PipeWriter Writer => _responseWriter ??= new ResponseBodyWriter(this);

    /// <summary>Nothing to disable: a write is buffered only until the application flushes, and a flush sends it.</summary>
    public void DisableBuffering()
    {
    }

    public Task StartAsync(CancellationToken cancellationToken = default) => StartResponseAsync(cancellationToken).AsTask();

    public async Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default)
    {
        await StartResponseAsync(cancellationToken).ConfigureAwait(false);
        await SendFileFallback.SendFileAsync(Stream, path, offset, count, cancellationToken).ConfigureAwait(false);
    }

    public async Task CompleteAsync()
    {
        await StartResponseAsync(default).ConfigureAwait(false);
        await Output.FlushAsync().ConfigureAwait(false);
    }

    // IHttpBodyControlFeature

    public bool AllowSynchronousIO { get; set; }

    // IHttpAuthenticationFeature

    public ClaimsPrincipal? User
    {
        get
        {
            if (!_userMade)
            {
                _userMade = true;
                _user ??= _settings.UseRemoteUser ? RemoteUser() : null;
            }

            return _user;
        }

        set
        {
            _userMade = true;
            _user = value;
        }
    }

    // IHttpUpgradeFeature: FastCGI has no upgrade (the web server owns the HTTP connection), so WebSockets are refused.

    public bool IsUpgradableRequest => false;

    public Task<Stream> UpgradeAsync() => throw new NotSupportedException("FastCGI cannot upgrade a connection: the web server owns it (no WebSockets or other upgrades).");

    // IFastCgiFeature

    public Role Role { get; }

    public bool IsCgi => _settings.IsCgi;

    public int RequestId => IsCgi ? 0 : _context.RequestId;

    public IReadOnlyDictionary<string, string> Params { get; }

    public ReadOnlyMemory<byte> RawParams => IsCgi ? ReadOnlyMemory<byte>.Empty : _context.RawParams;

    public PipeReader Data => _data;

    /// <summary>The reader behind both <c>Request.Body</c> and <c>Request.BodyReader</c>.</summary>
    private PipeReader RequestReader => _requestReader ??= new RequestBodyReader(this, RequestBodyPipe);

    private static Type[] OwnTypes { get; } =
    [
        typeof(IHttpRequestFeature), typeof(IHttpRequestBodyDetectionFeature), typeof(IRequestBodyPipeFeature),
        typeof(IHttpConnectionFeature), typeof(IHttpRequestIdentifierFeature), typeof(IHttpMaxRequestBodySizeFeature),
        typeof(IHttpRequestLifetimeFeature), typeof(IHttpResponseFeature), typeof(IHttpResponseBodyFeature),
        typeof(IHttpBodyControlFeature), typeof(IHttpAuthenticationFeature), typeof(IHttpUpgradeFeature), typeof(IFastCgiFeature),
    ];

    /// <summary>Fills the connection feature from REMOTE_ADDR, REMOTE_PORT, SERVER_ADDR and SERVER_PORT.</summary>
    public void ReadAddresses()
    {
        RemoteIpAddress = IPAddress.TryParse(Params.GetValueOrDefault("REMOTE_ADDR"), out var remote) ? remote : null;
        LocalIpAddress = IPAddress.TryParse(Params.GetValueOrDefault("SERVER_ADDR"), out var local) ? local : null;
        RemotePort = int.TryParse(Params.GetValueOrDefault("REMOTE_PORT"), NumberStyles.None, CultureInfo.InvariantCulture, out var remotePort) ? remotePort : 0;
        LocalPort = int.TryParse(Params.GetValueOrDefault("SERVER_PORT"), NumberStyles.None, CultureInfo.InvariantCulture, out var localPort) ? localPort : 0;
    }

    /// <summary>The first read of the body fixes the size limit (as Kestrel does) and checks CONTENT_LENGTH against it.</summary>
    public void BodyReadStarting()
    {
        if (_bodyReadStarted)
        {
            return;
        }

        _bodyReadStarted = true;
        if (_maxRequestBodySize is { } max && CgiRequestMapping.ContentLength(Params) > max)
        {
            throw new BadHttpRequestException($"The request body is larger than {max} bytes.", StatusCodes.Status413PayloadTooLarge);
        }
    }

    public void CheckSynchronousIO()
    {
        if (!AllowSynchronousIO)
        {
            throw new InvalidOperationException("Synchronous operations are disallowed. Call ReadAsync/WriteAsync or set AllowSynchronousIO to true instead.");
        }
    }

    /// <summary>Starts the response from a synchronous write (GetMemory/GetSpan), as Kestrel does: OnStarting waited for.</summary>
    public void StartResponse()
    {
        if (!HasStarted)
        {
            var starting = StartResponseAsync(default);
            if (!starting.IsCompletedSuccessfully)
            {
                starting.AsTask().GetAwaiter().GetResult();
            }
        }
    }

    /// <summary>Runs the OnStarting callbacks (last registered first), then writes the CGI header block (RFC 3875 6.2).</summary>
    public async ValueTask StartResponseAsync(CancellationToken cancellationToken)
    {
        if (HasStarted)
        {
            return;
        }

        if (_onStarting is { } callbacks)
        {
            _onStarting = null;
            for (var i = callbacks.Count - 1; i >= 0; i--)
            {
                await callbacks[i].Callback(callbacks[i].State).ConfigureAwait(false);
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        WriteHeaderBlock();
        HasStarted = true;
        if (ResponseHeaders is HeaderDictionary headers)
        {
            headers.IsReadOnly = true;
        }
    }

    /// <summary>
    /// Before the response started, turns it into an error response: the status, no headers, no body (as Kestrel
    /// answers an unhandled exception).
    /// </summary>
    public void ResetForError(int statusCode)
    {
        _statusCode = statusCode;
        ReasonPhrase = null;
        ResponseHeaders.Clear();
        ResponseHeaders.ContentLength = 0;
    }

    /// <summary>Runs the OnCompleted callbacks, last registered first; a failing one does not stop the others.</summary>
    public async Task<Exception?> FireOnCompletedAsync()
    {
        Exception? first = null;
        if (_onCompleted is { } callbacks)
        {
            _onCompleted = null;
            for (var i = callbacks.Count - 1; i >= 0; i--)
            {
                try
                {
                    await callbacks[i].Callback(callbacks[i].State).ConfigureAwait(false);
                }
                catch (Exception exception)
                {
                    first ??= exception;
                }
            }
        }

        return first;
    }

    /// <summary>Releases what the request held that outlives it: the abort token's link to the connection's.</summary>
    public void Release() => _abortSource?.Dispose();

    private RequestFeatures? Own(Type key)
    {
        if (key == typeof(IHttpRequestFeature) || key == typeof(IHttpResponseFeature) || key == typeof(IHttpResponseBodyFeature)
            || key == typeof(IHttpRequestLifetimeFeature) || key == typeof(IHttpConnectionFeature) || key == typeof(IHttpRequestIdentifierFeature)
            || key == typeof(IHttpRequestBodyDetectionFeature) || key == typeof(IHttpMaxRequestBodySizeFeature) || key == typeof(IHttpBodyControlFeature)
            || key == typeof(IHttpAuthenticationFeature) || key == typeof(IHttpUpgradeFeature) || key == typeof(IFastCgiFeature))
        {
            return this;
        }

        return key == typeof(IRequestBodyPipeFeature) ? this : null;
    }

    private void ThrowIfStarted(string what)
    {
        if (HasStarted)
        {
            throw new InvalidOperationException($"{what} cannot be set because the response has already started.");
        }
    }

    /// <summary>The user the web server authenticated: REMOTE_USER and AUTH_TYPE (RFC 3875 4.1.11, 4.1.1), or an authorizer's AUTH_USER.</summary>
    private ClaimsPrincipal? RemoteUser()
    {
        var name = Params.GetValueOrDefault("REMOTE_USER") is { Length: > 0 } remoteUser ? remoteUser : Params.GetValueOrDefault("AUTH_USER");
        if (string.IsNullOrEmpty(name))
        {
            return null;
        }

        var type = Params.GetValueOrDefault("AUTH_TYPE") is { Length: > 0 } authType ? authType : "FastCgi";
        return new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, name)], type));
    }

    /// <summary>
    /// <c>Status: 200 OK</c>, then each header value on its own line, then the blank line (RFC 3875 6.2, 6.3.3).
    /// A value with a control character or a non-ASCII one is refused, as Kestrel refuses it: it would let the
    /// application split the header block.
    /// </summary>
    private void WriteHeaderBlock()
    {
        var reason = ReasonPhrase ?? ReasonPhrases.GetReasonPhrase(_statusCode);
        WriteAscii("Status: ");
        WriteAscii(_statusCode.ToString(CultureInfo.InvariantCulture));
        WriteAscii(" ");
        WriteAscii(Checked(reason, "reason phrase"));
        WriteAscii("\r\n");
        foreach (var (name, values) in ResponseHeaders)
        {
            CheckName(name);
            foreach (var value in values)
            {
                WriteAscii(name);
                WriteAscii(": ");
                WriteAscii(Checked(value ?? "", name));
                WriteAscii("\r\n");
            }
        }

        WriteAscii("\r\n");
    }

    private static void CheckName(string name)
    {
        foreach (var c in name)
        {
            if (c <= ' ' || c >= 0x7F || c == ':')
            {
                throw new InvalidOperationException($"Invalid character in the response header name '{name}'.");
            }
        }
    }

    private static string Checked(string value, string name)
    {
        foreach (var c in value)
        {
            if ((c < ' ' && c != '\t') || c >= 0x7F)
            {
                throw new InvalidOperationException($"Invalid control or non-ASCII character in the response header '{name}'.");
            }
        }

        return value;
    }

    private void WriteAscii(string text)
    {
        var span = Output.GetSpan(text.Length);
        var written = Latin1.GetBytes(text, span);
        Output.Advance(written);
    }
}
