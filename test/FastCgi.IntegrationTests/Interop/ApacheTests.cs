using System.Net;
using FastCgi.IntegrationTests.Support;
using FastCgi.Testing;
using Xunit;

namespace FastCgi.IntegrationTests.Interop;

/// <summary>
/// Apache httpd mod_proxy_fcgi to the echo sample (spawn-fcgi) on TCP and on a Unix socket:
/// docs/snippets/apache-proxy-fcgi.conf. <see cref="Prefix"/> picks which of the two the tests use.
/// </summary>
public abstract class ApacheProxyFixture(string prefix) : ResponderFixture
{
    private ApacheServer? _apache;
    private EchoServer? _tcpApp;
    private EchoServer? _unixApp;

    public string Prefix { get; } = prefix;

    internal ApacheServer Apache => _apache!;

    internal override WebServerProcess Server => Apache;

    public override async ValueTask InitializeAsync()
    {
        _tcpApp = await EchoServer.StartAsync(["--threading-level", "1"], tcp: true);
        _unixApp = await EchoServer.StartAsync(["--threading-level", "2"]);

        // Apache's children run as www-data: they must reach the socket in the test's temp folder.
        _unixApp.AllowEveryone();
        _apache = await ApacheServer.StartAsync(
            ["apache-proxy-fcgi.conf"],
            new Dictionary<string, string> { ["127.0.0.1:9000"] = _tcpApp.EndPoint.ToString()!, ["/run/echo/echo.sock"] = _unixApp.SocketPath });
        AppUri = new Uri(Apache.BaseUri, Prefix);
    }

    protected override async ValueTask StopAsync()
    {
        if (_apache is not null)
        {
            await _apache.DisposeAsync();
        }

        foreach (var app in new[] { _tcpApp, _unixApp })
        {
            if (app is not null)
            {
                await app.DisposeAsync();
            }
        }
    }
}

public sealed class ApacheProxyTcpFixture() : ApacheProxyFixture("app/");

public sealed class ApacheProxyUnixFixture() : ApacheProxyFixture("unix/");

/// <summary>Apache mod_fcgid spawning the echo sample itself: docs/snippets/apache-fcgid.conf.</summary>
public sealed class ApacheFcgidFixture : ResponderFixture
{
    private ApacheServer? _apache;

    internal ApacheServer Apache => _apache!;

    internal override WebServerProcess Server => Apache;

    public override async ValueTask InitializeAsync()
    {
        _apache = await ApacheServer.StartAsync(["apache-fcgid.conf"]);
        Directory.CreateDirectory(Apache.PathIn("www/private"));
        File.WriteAllText(Apache.PathIn("www/private/secret.txt"), "the secret\n");
        AppUri = new Uri(Apache.BaseUri, "fcgid/Echo/");
    }

    protected override async ValueTask StopAsync()
    {
        if (_apache is not null)
        {
            await _apache.DisposeAsync();
        }
    }
}

public sealed class ApacheProxyTcpTests(ApacheProxyTcpFixture fixture) : ResponderContract(fixture), IClassFixture<ApacheProxyTcpFixture>
{
    protected override (string?, string?, string?) ExpectedPaths => ("/app/sub/echo", null, "/app/sub/echo?x=1");

    protected override (string?, string?) ExpectedHostAndLength(string hostAndPort) => (hostAndPort, null);

    protected override bool PassesAuthorization => false;
}

public sealed class ApacheProxyUnixTests(ApacheProxyUnixFixture fixture) : ResponderContract(fixture), IClassFixture<ApacheProxyUnixFixture>
{
    protected override (string?, string?, string?) ExpectedPaths => ("/unix/sub/echo", null, "/unix/sub/echo?x=1");

    protected override (string?, string?) ExpectedHostAndLength(string hostAndPort) => (hostAndPort, null);

    protected override bool PassesAuthorization => false;
}

public sealed class ApacheFcgidTests(ApacheFcgidFixture fixture) : ResponderContract(fixture), IClassFixture<ApacheFcgidFixture>
{
    // The executable is the script: SCRIPT_NAME ends at it, the rest is PATH_INFO.
    protected override (string?, string?, string?) ExpectedPaths => ("/fcgid/Echo", "/sub/echo", "/fcgid/Echo/sub/echo?x=1");

    protected override (string?, string?) ExpectedHostAndLength(string hostAndPort) => (hostAndPort, "0");

    protected override bool PassesAuthorization => false;

    [Fact]
    public async Task Access_checker_in_front_of_a_static_file()
    {
        using var client = Http.Client(fixture.Apache.BaseUri);
        using var denied = await client.GetAsync("private/secret.txt", TestContext.Current.CancellationToken);
        AssertDeniedByApache(denied);

        client.DefaultRequestHeaders.Authorization = new("Bearer", "letmein");
        using var granted = await client.GetAsync("private/secret.txt", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, granted.StatusCode);
        Assert.Equal("text/plain", granted.Content.Headers.ContentType?.ToString());
        Assert.Equal("the secret\n", await granted.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));

        // mod_fcgid copies the authorizer's headers into the response: the client sees Variable-AUTH_USER.
        Assert.Equal(["alice"], granted.Headers.GetValues("Variable-AUTH_USER"));
    }

    [Fact]
    public async Task Access_checker_in_front_of_the_responder_passes_AUTH_USER_on()
    {
        using var client = Http.Client(fixture.Apache.BaseUri);
        using var denied = await client.GetAsync("secure/Echo/echo", TestContext.Current.CancellationToken);
        AssertDeniedByApache(denied);

        client.DefaultRequestHeaders.Authorization = new("Bearer", "letmein");
        using var granted = await client.GetAsync("secure/Echo/echo?x=1", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, granted.StatusCode);
        var environ = ResponderContract.Environ(await Http.JsonAsync(granted));
        Assert.Equal("alice", Http.Text(environ, "AUTH_USER"));
        Assert.Equal("Bearer letmein", Http.Text(environ, "HTTP_AUTHORIZATION"));
        Assert.Equal(["alice"], granted.Headers.GetValues("Variable-AUTH_USER"));
    }

    private static void AssertDeniedByApache(HttpResponseMessage denied)
    {
        // Not the authorizer's 403 and "forbidden\n": mod_fcgid answers a denial with Apache's own 401 page.
        Assert.Equal(HttpStatusCode.Unauthorized, denied.StatusCode);
        Assert.Equal("text/html; charset=iso-8859-1", denied.Content.Headers.ContentType?.ToString());
    }
}

/// <summary>
/// Apache mod_authnz_fcgi asking the echo sample (spawn-fcgi, TCP) as an authorizer in front of static files and in
/// front of the echo sample as a responder: docs/snippets/apache-authnz-fcgi.conf. Test-only, the libfcgi C authorizer
/// guards /native/VARIANT/, once per way of writing its denial.
/// </summary>
public sealed class ApacheAuthnzFixture : IAsyncLifetime
{
    private static readonly string[] Variants = [NativeAuthorizer.OneRecord, NativeAuthorizer.TypeFirst, NativeAuthorizer.SplitBody];
    private readonly List<NativeAuthorizer> _natives = [];
    private ApacheServer? _apache;
    private EchoServer? _app;

    internal ApacheServer Apache => _apache!;

    internal EchoServer App => _app!;

    public async ValueTask InitializeAsync()
    {
        _app = await EchoServer.StartAsync(["--threading-level", "2"], tcp: true);
        var extra = new System.Text.StringBuilder();
        foreach (var variant in Variants)
        {
            var native = await NativeAuthorizer.StartAsync(variant);
            _natives.Add(native);
            var provider = "native_" + variant.Replace('-', '_');
            extra.Append($$"""
                AuthnzFcgiDefineProvider authn {{provider}} fcgi://127.0.0.1:{{WebServerProcess.Text(native.Port)}}/
                <Location /native/{{variant}}/>
                    AuthType Bearer
                    AuthName "native"
                    CGIPassAuth On
                    AuthnzFcgiCheckAuthnProvider {{provider}} Authoritative On RequireBasicAuth Off UserExpr "%{reqenv:AUTH_USER}"
                    Require valid-user
                </Location>

                """);
        }

        _apache = await ApacheServer.StartAsync(
            ["apache-authnz-fcgi.conf"],
            new Dictionary<string, string> { ["127.0.0.1:9000"] = App.EndPoint.ToString()! },
            extra.ToString());
        foreach (var folder in Variants.Select(variant => "www/native/" + variant).Append("www/private"))
        {
            Directory.CreateDirectory(Apache.PathIn(folder));
            File.WriteAllText(Apache.PathIn(folder + "/secret.txt"), "the secret\n");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_apache is not null)
        {
            await _apache.DisposeAsync();
        }

        foreach (var native in _natives)
        {
            await native.DisposeAsync();
        }

        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}

public sealed class ApacheAuthnzTests(ApacheAuthnzFixture fixture) : IClassFixture<ApacheAuthnzFixture>
{
    [Theory]
    [InlineData("private/secret.txt")]
    [InlineData($"native/{NativeAuthorizer.OneRecord}/secret.txt")]
    public async Task Authorizer_in_front_of_a_static_file(string path)
    {
        using var client = Http.Client(fixture.Apache.BaseUri);
        using var denied = await client.GetAsync(path, TestContext.Current.CancellationToken);
        await AssertDeniedAsync(denied);

        client.DefaultRequestHeaders.Authorization = new("Bearer", "letmein");
        using var granted = await client.GetAsync(path, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, granted.StatusCode);
        Assert.Equal("text/plain", granted.Content.Headers.ContentType?.ToString());
        Assert.Equal("the secret\n", await granted.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Authorizer_in_front_of_the_responder_passes_the_user_on()
    {
        using var client = Http.Client(fixture.Apache.BaseUri);
        using var denied = await client.GetAsync("secure/echo", TestContext.Current.CancellationToken);
        await AssertDeniedAsync(denied);

        client.DefaultRequestHeaders.Authorization = new("Bearer", "letmein");
        using var granted = await client.GetAsync("secure/echo?x=1", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, granted.StatusCode);
        var json = await Http.JsonAsync(granted);
        Assert.Equal("""{"x":"1"}""", json.GetProperty("params").GetRawText());
        var environ = ResponderContract.Environ(json);
        Assert.Equal("alice", Http.Text(environ, "REMOTE_USER"));
        Assert.Equal("alice", Http.Text(environ, "AUTH_USER"));
        Assert.Equal("Bearer letmein", Http.Text(environ, "HTTP_AUTHORIZATION"));
    }

    [Fact]
    public async Task A_body_in_a_record_after_the_headers_is_replaced_by_Apaches_page()
    {
        // mod_authnz_fcgi keeps only the body bytes that came in the FCGI_STDOUT record where the headers ended: the
        // libfcgi authorizer that flushes its headers first gets Apache's own 403 page. So the body shares the record.
        using var client = Http.Client(fixture.Apache.BaseUri);
        using var denied = await client.GetAsync($"native/{NativeAuthorizer.SplitBody}/secret.txt", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        Assert.Contains("<title>403 Forbidden</title>", await denied.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    private static async Task AssertDeniedAsync(HttpResponseMessage denied)
    {
        // The authorizer's status and body reach the client; Apache sends a custom error body as its own error pages,
        // labelled text/html; charset=iso-8859-1, whatever Content-Type the authorizer gave.
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        Assert.Equal("text/html; charset=iso-8859-1", denied.Content.Headers.ContentType?.ToString());
        Assert.Equal("forbidden\n", await denied.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }
}

/// <summary>
/// Apache mod_cgid running the echo sample as a plain CGI program, a process per request: docs/snippets/apache-cgi.conf.
/// </summary>
public sealed class ApacheCgiTests : IAsyncLifetime
{
    private ApacheServer? _apache;
    private HttpClient? _http;

    public async ValueTask InitializeAsync()
    {
        _apache = await ApacheServer.StartAsync(["apache-cgi.conf"]);
        _http = new HttpClient { BaseAddress = new Uri(_apache.BaseUri, "cgi-bin/Echo/"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public async ValueTask DisposeAsync()
    {
        _http?.Dispose();
        if (_apache is not null)
        {
            await _apache.DisposeAsync();
        }
    }

    [Fact]
    public async Task Hello_runs_as_CGI()
    {
        Assert.Equal("Hello, world!\n", await _http!.GetStringAsync("hello"));
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("--max-request-body-bytes+0")]
    [InlineData("--listen+127.0.0.1:{port}")]
    public async Task A_query_without_an_equals_sign_reaches_the_program_as_words_that_are_not_options(string query)
    {
        // Apache passes these words as the program's arguments (RFC 3875 section 4.4). Read as options, --help would
        // print a usage instead of a response, and --listen would start a FastCGI server that never answers.
        using var response = await _http!.GetAsync("hello?" + query.Replace("{port}", WebServerProcess.Text(WebServerProcess.FreeTcpPort()), StringComparison.Ordinal));
        Assert.Equal((HttpStatusCode.OK, "Hello, world!\n"), (response.StatusCode, await response.Content.ReadAsStringAsync()));
    }

    [Fact]
    public async Task The_words_are_still_the_query_string()
    {
        var echoed = await _http!.GetStringAsync("echo?two+words");
        Assert.Contains("\"QUERY_STRING\":\"two\\u002Bwords\"", echoed, StringComparison.Ordinal);
    }
}
