using System.Buffers;
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
using Microsoft.Extensions.Primitives;

namespace FastCgi.AspNetCore;

/// <summary>What the server holds for all requests: the options each request's features read.</summary>
internal sealed record ServerSettings(long? MaxRequestBodySize, bool UseRemoteUser, string? AuthorizerPath, bool IsCgi)
{
    /// <summary>Makes request ids unique across processes behind one web server, as Kestrel's connection ids are.</summary>
    public string TracePrefix { get; } = "FCGI" + Convert.ToHexString(BitConverter.GetBytes(Random.Shared.Next()));

    private long _requests;

    /// <summary><c>FCGI&lt;random&gt;:&lt;counter&gt;</c>.</summary>
    public string NextTraceIdentifier() =>
        string.Create(CultureInfo.InvariantCulture, $"{TracePrefix}:{Interlocked.Increment(ref _requests):X8}");
}

/// <summary>
/// One request's ASP.NET Core features, all in one object as Kestrel does: the request mapped from its CGI
/// variables (RFC 3875 4.1), the body pipes, and the response written as a CGI response (RFC 3875 6) to the
/// FastCGI STDOUT stream or a CGI program's standard output. Features the application or middleware set replace
/// these in a small side table. Like Kestrel's, the object serves one request after another on its connection
/// (<see cref="Initialize(FastCgiRequestContext)"/> at the start, <see cref="Reset"/> at the end), and so do the
/// header dictionaries, body pipes and streams it holds.
/// </summary>
internal class RequestFeatures :
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
    private const int HeldFlushLimit = 32 * 1024;

    // RFC 9110 5.5 field values: visible ASCII, space and tab; 5.1 names: tokens, here any visible ASCII but ':'.
    private static readonly SearchValues<char> ValueCharacters = SearchValues.Create("\t !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~");
    private static readonly SearchValues<char> NameCharacters = SearchValues.Create("!\"#$%&'()*+,-./0123456789;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~");
    private static readonly IReadOnlyDictionary<string, string> NoParams = new Dictionary<string, string>();

    private readonly ServerSettings _settings;
    private readonly RequestVariables _variables = new();
    private readonly HeaderDictionary _ownRequestHeaders = new();
    private readonly HeaderDictionary _ownResponseHeaders = new();
    private readonly ResponseBodyWriter _responseWriter;
    private CancellationToken _transportAborted;
    private FastCgiRequestContext? _context;
    private PipeReader? _data;
    private Dictionary<Type, object?>? _replaced;
    private int _revision;
    private IHeaderDictionary? _requestHeaders;
    private bool _requestHeadersLoaded;
    private Stream? _requestBody;
    private BodyStream? _ownRequestBody;
    private RequestBodyReader? _requestReader;
    private Stream? _adaptedStream;
    private PipeReader? _adaptedReader;
    private BodyStream? _responseStream;
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
    private string? _reasonPhrase;
    private (string? Text, IPAddress? Address) _remoteIp;
    private (string? Text, IPAddress? Address) _localIp;
    private bool _remoteIpSet;
    private bool _localIpSet;
    private int? _remotePort;
    private int? _localPort;
    private int _holdingThread;
    private bool _flushHeld;
    private long _bodyBytes;

    public RequestFeatures(ServerSettings settings)
    {
        _settings = settings;
        _responseWriter = new ResponseBodyWriter(this);
        // Set by Initialize before the application sees the features.
        Output = null!;
        RequestBodyPipe = null!;
        Params = NoParams;
        ResponseHeaders = _ownResponseHeaders;
        Protocol = Scheme = Method = PathBase = Path = QueryString = RawTarget = "";
    }

    /// <summary>Starts a FastCGI request on these features: its CGI variables read from the PARAMS bytes.</summary>
    public void Initialize(FastCgiRequestContext context)
    {
        _context = context;
        _variables.Load(context.RawParams.Span);
        Initialize(context.Params, context.Body, context.Output, context.Role, data: null, context.Aborted);
    }

    /// <summary>The request's state; what the previous request left was cleared by <see cref="Reset"/>.</summary>
    private void Initialize(IReadOnlyDictionary<string, string> environ, PipeReader body, PipeWriter output, Role role, PipeReader? data, CancellationToken aborted)
    {
        Params = environ;
        RequestBodyPipe = body;
        _requestReader?.Reset(body);
        Output = output;
        _transportAborted = aborted;
        _data = data;
        Role = role;
        _maxRequestBodySize = _settings.MaxRequestBodySize;
        Method = _variables[CgiVariable.RequestMethod] is { Length: > 0 } method ? Canonical(method) : HttpMethods.Get;
        Protocol = _variables[CgiVariable.ServerProtocol] is { Length: > 0 } protocol ? protocol : "HTTP/1.1";
        Scheme = CgiRequestMapping.Scheme(_variables);
        (PathBase, Path, QueryString, RawTarget) = CgiRequestMapping.Target(_variables);
        if (Role == Role.Authorizer && _settings.AuthorizerPath is { } authorizerPath)
        {
            // One endpoint answers the authorizer requests; RawTarget keeps the request being authorized.
            (PathBase, Path) = ("", authorizerPath);
        }

        SuppressBody = HttpMethods.IsHead(Method);
        CanHaveBody = CgiRequestMapping.ContentLength(_variables) is > 0 || _variables.HasHeader("HTTP_TRANSFER_ENCODING"u8);
    }

    /// <summary>
    /// Makes the features ready for the connection's next request: what the application set is dropped, what the
    /// request held that outlives it (the abort token's link to the connection's) released.
    /// </summary>
    public void Reset()
    {
        _abortSource?.Dispose();
        _abortSource = null;
        _requestAborted = null;
        _abortRequested = false;
        if (_replaced is { Count: > 0 })
        {
            _replaced.Clear();
        }

        // A new revision: ASP.NET Core's cached feature lookups start again.
        _revision++;
        _ownRequestHeaders.Clear();
        _requestHeaders = null;
        _requestHeadersLoaded = false;
        _requestBody = null;
        _adaptedStream = null;
        _adaptedReader = null;
        _responseBodyOverride = null;
        _onStarting = null;
        _onCompleted = null;
        _traceIdentifier = null;
        _connectionId = null;
        _user = null;
        _userMade = false;
        _bodyReadStarted = false;
        _statusCode = StatusCodes.Status200OK;
        _reasonPhrase = null;
        _ownResponseHeaders.IsReadOnly = false;
        _ownResponseHeaders.Clear();
        ResponseHeaders = _ownResponseHeaders;
        HasStarted = false;
        AllowSynchronousIO = false;
        _remoteIpSet = _localIpSet = false;
        _remotePort = _localPort = null;
        _flushHeld = false;
        _bodyBytes = 0;
        _responseWriter.Reset();
        _context = null;
        _data = null;
    }

    /// <summary>The output the response goes to: the request's STDOUT pipe, or a CGI program's standard output.</summary>
    public PipeWriter Output { get; private set; }

    /// <summary>Whether writes to the body are dropped (a HEAD response has none, RFC 9110 9.3.2).</summary>
    public bool SuppressBody { get; private set; }

    public long? MaxRequestBodySizeValue => _maxRequestBodySize;

    private PipeReader RequestBodyPipe { get; set; }

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
        get
        {
            if (_requestHeaders is null)
            {
                // Built when first asked for: a request whose headers nobody reads costs no dictionary entries.
                if (!_requestHeadersLoaded)
                {
                    _requestHeadersLoaded = true;
                    CgiRequestMapping.Headers(_variables, _ownRequestHeaders);
                }

                _requestHeaders = _ownRequestHeaders;
            }

            return _requestHeaders;
        }

        set => _requestHeaders = value;
    }

    Stream IHttpRequestFeature.Body
    {
        get => _requestBody ??= _ownRequestBody ??= new BodyStream(this, RequestReader, null);
        set => _requestBody = value;
    }

    // IRequestBodyPipeFeature: the body pipe, unless middleware replaced the body stream (EnableBuffering).

    PipeReader IRequestBodyPipeFeature.Reader
    {
        get
        {
            if (_requestBody is null || _requestBody == _ownRequestBody)
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

    public bool CanHaveBody { get; private set; }

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

    // From REMOTE_ADDR, REMOTE_PORT, SERVER_ADDR and SERVER_PORT when first read; an address is parsed again only
    // when its text changed since the connection's last request.

    public IPAddress? RemoteIpAddress
    {
        get => _remoteIpSet ? _remoteIp.Address : Address(ref _remoteIp, ref _remoteIpSet, _variables[CgiVariable.RemoteAddr]);
        set => (_remoteIp, _remoteIpSet) = ((null, value), true);
    }

    public IPAddress? LocalIpAddress
    {
        get => _localIpSet ? _localIp.Address : Address(ref _localIp, ref _localIpSet, _variables[CgiVariable.ServerAddr]);
        set => (_localIp, _localIpSet) = ((null, value), true);
    }

    public int RemotePort
    {
        get => _remotePort ??= Port(_variables[CgiVariable.RemotePort]);
        set => _remotePort = value;
    }

    public int LocalPort
    {
        get => _localPort ??= Port(_variables[CgiVariable.ServerPort]);
        set => _localPort = value;
    }

    // IHttpRequestIdentifierFeature

    public string TraceIdentifier
    {
        get => _traceIdentifier ??= _settings.NextTraceIdentifier();
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
        get => _reasonPhrase;
        set
        {
            ThrowIfStarted(nameof(ReasonPhrase));
            _reasonPhrase = value;
        }
    }

    public IHeaderDictionary ResponseHeaders { get; set; }

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

    public PipeWriter Writer => _responseWriter;

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
        await FlushOutputAsync(responseComplete: true, default).ConfigureAwait(false);
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

    public Role Role { get; private set; }

    public bool IsCgi => _settings.IsCgi;

    public int RequestId => IsCgi ? 0 : _context!.RequestId;

    public IReadOnlyDictionary<string, string> Params { get; private set; }

    public ReadOnlyMemory<byte> RawParams => IsCgi ? ReadOnlyMemory<byte>.Empty : _context!.RawParams;

    public PipeReader Data => _data ??= _context!.Data;

    /// <summary>The reader behind both <c>Request.Body</c> and <c>Request.BodyReader</c>.</summary>
    private RequestBodyReader RequestReader => _requestReader ??= new RequestBodyReader(this, RequestBodyPipe);

    private static Type[] OwnTypes { get; } =
    [
        typeof(IHttpRequestFeature), typeof(IHttpRequestBodyDetectionFeature), typeof(IRequestBodyPipeFeature),
        typeof(IHttpConnectionFeature), typeof(IHttpRequestIdentifierFeature), typeof(IHttpMaxRequestBodySizeFeature),
        typeof(IHttpRequestLifetimeFeature), typeof(IHttpResponseFeature), typeof(IHttpResponseBodyFeature),
        typeof(IHttpBodyControlFeature), typeof(IHttpAuthenticationFeature), typeof(IHttpUpgradeFeature), typeof(IFastCgiFeature),
    ];

    /// <summary>The first read of the body fixes the size limit (as Kestrel does) and checks CONTENT_LENGTH against it.</summary>
    public void BodyReadStarting()
    {
        if (_bodyReadStarted)
        {
            return;
        }

        _bodyReadStarted = true;
        if (_maxRequestBodySize is { } max && CgiRequestMapping.ContentLength(_variables) > max)
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
    /// Counts the body bytes written, so that <see cref="FlushOutputAsync"/> knows when a response with a
    /// Content-Length is whole.
    /// </summary>
    public void BodyWritten(int bytes) => _bodyBytes += bytes;

    /// <summary>
    /// Holds back the flushes of a whole response while the application runs on this thread without waiting (see
    /// <see cref="FlushOutputAsync"/>), until <see cref="StopHoldingFlushes"/>.
    /// </summary>
    public void HoldFlushes() => _holdingThread = Environment.CurrentManagedThreadId;

    /// <summary>The application returned or waits: a flush held back goes out now, unless the request ends at once.</summary>
    public void StopHoldingFlushes() => _holdingThread = 0;

    /// <summary>Sends a flush held back by <see cref="FlushOutputAsync"/>: the application waits for something.</summary>
    public async ValueTask SendHeldFlushAsync()
    {
        if (_flushHeld)
        {
            _flushHeld = false;
            await Output.FlushAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Flushes the response to the web server. A whole small response (its Content-Length written, or completed,
    /// or a HEAD response) flushed while the application still runs on the thread that started it stays in the
    /// buffer instead: when the application then returns, the response and END_REQUEST leave in one send, as a
    /// response nobody flushed does (ASP.NET Core's <c>Response.WriteAsync</c> always flushes); when it waits for
    /// something first, the runner sends it then (<see cref="SendHeldFlushAsync"/>).
    /// </summary>
    public ValueTask<FlushResult> FlushOutputAsync(bool responseComplete, CancellationToken cancellationToken)
    {
        if (_holdingThread == Environment.CurrentManagedThreadId && _bodyBytes <= HeldFlushLimit
            && (responseComplete || SuppressBody || ResponseHeaders.ContentLength == _bodyBytes))
        {
            _flushHeld = true;
            return ValueTask.FromResult(new FlushResult(isCanceled: false, isCompleted: false));
        }

        _flushHeld = false;
        return Output.FlushAsync(cancellationToken);
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
        var name = _variables[CgiVariable.RemoteUser] is { Length: > 0 } remoteUser ? remoteUser : _variables[CgiVariable.AuthUser];
        if (string.IsNullOrEmpty(name))
        {
            return null;
        }

        var type = _variables[CgiVariable.AuthType] is { Length: > 0 } authType ? authType : "FastCgi";
        return new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, name)], type));
    }

    private static IPAddress? Address(ref (string? Text, IPAddress? Address) cached, ref bool set, string? text)
    {
        set = true;
        if (!ReferenceEquals(text, cached.Text))
        {
            cached = (text, IPAddress.TryParse(text, out var address) ? address : null);
        }

        return cached.Address;
    }

    /// <summary>ASP.NET Core's own string for a method spelled exactly so (it compares those by reference first); methods are case-sensitive (RFC 9110 9.1).</summary>
    private static string Canonical(string method) =>
        HttpMethods.GetCanonicalizedValue(method) is var canonical && string.Equals(canonical, method, StringComparison.Ordinal) ? canonical : method;

    private static int Port(string? text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) ? port : 0;

    /// <summary>
    /// <c>Status: 200 OK</c>, then each header value on its own line, then the blank line (RFC 3875 6.2, 6.3.3),
    /// written straight into the output. A value with a control character or a non-ASCII one is refused, as
    /// Kestrel refuses it: it would let the application split the header block.
    /// </summary>
    private void WriteHeaderBlock()
    {
        var reason = _reasonPhrase ?? ReasonPhrases.GetReasonPhrase(_statusCode);
        CheckValue(reason, "reason phrase");
        var span = Output.GetSpan(8 + 11 + 1 + reason.Length + 2);
        "Status: "u8.CopyTo(span);
        _statusCode.TryFormat(span[8..], out var digits, default, CultureInfo.InvariantCulture);
        var length = 8 + digits;
        span[length++] = (byte)' ';
        length += Encoding.ASCII.GetBytes(reason, span[length..]);
        "\r\n"u8.CopyTo(span[length..]);
        Output.Advance(length + 2);
        if (ResponseHeaders is HeaderDictionary own)
        {
            // HeaderDictionary's own enumerator is a struct; the interface's would be boxed.
            foreach (var (name, values) in own)
            {
                WriteHeader(name, values);
            }
        }
        else
        {
            foreach (var (name, values) in ResponseHeaders)
            {
                WriteHeader(name, values);
            }
        }

        "\r\n"u8.CopyTo(Output.GetSpan(2));
        Output.Advance(2);
    }

    private void WriteHeader(string name, StringValues values)
    {
        if (name.Length == 0 || name.AsSpan().ContainsAnyExcept(NameCharacters))
        {
            throw new InvalidOperationException($"Invalid character in the response header name '{name}'.");
        }

        foreach (var value in values)
        {
            var text = value ?? "";
            CheckValue(text, name);
            var span = Output.GetSpan(name.Length + 2 + text.Length + 2);
            var length = Encoding.ASCII.GetBytes(name, span);
            ": "u8.CopyTo(span[length..]);
            length += 2;
            length += Encoding.ASCII.GetBytes(text, span[length..]);
            "\r\n"u8.CopyTo(span[length..]);
            Output.Advance(length + 2);
        }
    }

    private static void CheckValue(string value, string name)
    {
        if (value.AsSpan().ContainsAnyExcept(ValueCharacters))
        {
            throw new InvalidOperationException($"Invalid control or non-ASCII character in the response header '{name}'.");
        }
    }
}
