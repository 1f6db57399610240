using FastCgi.IntegrationTests.Support;
using FastCgi.Testing;
using Xunit;

namespace FastCgi.IntegrationTests.Interop;

/// <summary>
/// The CGI fallback under a real server: nginx to fcgiwrap, which runs the same Echo executable as a plain CGI program
/// per request (fd 0 is a pipe): docs/snippets/nginx-fcgiwrap.conf.
/// </summary>
public sealed class FcgiwrapFixture : ResponderFixture
{
    private FcgiwrapServer? _fcgiwrap;
    private NginxServer? _nginx;

    internal NginxServer Nginx => _nginx!;

    internal override WebServerProcess Server => Nginx;

    // fcgiwrap (1.1.0) does not send a CGI program's stderr as FCGI_STDERR: it writes it to its own stderr, so the
    // text lands in fcgiwrap's log (the journal under systemd), not in nginx's error log.
    internal override Task<string> WaitForErrorTextAsync(string text) => _fcgiwrap!.WaitForOutputAsync(text);

    public override async ValueTask InitializeAsync()
    {
        _fcgiwrap = await FcgiwrapServer.StartAsync();
        _nginx = await NginxServer.StartAsync("nginx-fcgiwrap.conf", new Dictionary<string, string> { ["/run/echo/fcgiwrap.sock"] = _fcgiwrap.SocketPath });
        AppUri = new Uri(Nginx.BaseUri, "cgi-bin/echo/");
    }

    protected override async ValueTask StopAsync()
    {
        if (_nginx is not null)
        {
            await _nginx.DisposeAsync();
        }

        if (_fcgiwrap is not null)
        {
            await _fcgiwrap.DisposeAsync();
        }
    }
}

public sealed class FcgiwrapTests(FcgiwrapFixture fixture) : ResponderContract(fixture), IClassFixture<FcgiwrapFixture>
{
    protected override (string?, string?, string?) ExpectedPaths => ("/cgi-bin/echo/sub/echo", null, "/cgi-bin/echo/sub/echo?x=1");

    protected override (string?, string?) ExpectedHostAndLength(string hostAndPort) => ("127.0.0.1", "");

    [Fact]
    public async Task Runs_as_cgi_with_the_fastcgi_params_as_its_environment()
    {
        using var client = Client();
        using var response = await client.GetAsync("echo", TestContext.Current.CancellationToken);
        var environ = ResponderContract.Environ(await Http.JsonAsync(response));

        // fcgiwrap turns nginx's parameters into the CGI program's environment; SCRIPT_FILENAME is what it ran.
        Assert.Equal(Path.Combine(fixture.Nginx.ApplicationFolder, "Echo"), Http.Text(environ, "SCRIPT_FILENAME"));
        Assert.Equal("CGI/1.1", Http.Text(environ, "GATEWAY_INTERFACE"));
        Assert.StartsWith("nginx/", Http.Text(environ, "SERVER_SOFTWARE"), StringComparison.Ordinal);
    }
}
