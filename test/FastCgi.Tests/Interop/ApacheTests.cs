using System.Net;
using FastCgi.Tests.Support;
using Xunit;

namespace FastCgi.Tests.Interop;

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
