using System.Net;
using FastCgi.IntegrationTests.Support;
using FastCgi.Testing;
using Xunit;

namespace FastCgi.IntegrationTests.Interop;

/// <summary>
/// nginx to the echo sample on TCP (spawn-fcgi, threading level 2) with kept connections (<c>fastcgi_keep_conn on</c>,
/// <c>upstream { keepalive 8; }</c>) and unbuffered request bodies: docs/snippets/nginx-tcp.conf.
/// </summary>
public sealed class NginxTcpFixture : ResponderFixture
{
    private NginxServer? _nginx;

    internal EchoServer App { get; private set; } = null!;

    internal NginxServer Nginx => _nginx!;

    internal override WebServerProcess Server => Nginx;

    public override async ValueTask InitializeAsync()
    {
        App = await EchoServer.StartAsync(["--threading-level", "2"], tcp: true);
        _nginx = await NginxServer.StartAsync("nginx-tcp.conf", new Dictionary<string, string> { ["127.0.0.1:9000"] = App.EndPoint.ToString()! });
        AppUri = new Uri(Nginx.BaseUri, "app/");
    }

    protected override async ValueTask StopAsync()
    {
        if (_nginx is not null)
        {
            await _nginx.DisposeAsync();
        }

        await App.DisposeAsync();
    }
}

/// <summary>nginx to the echo sample on a Unix socket (spawn-fcgi, threading level 1), one connection per request, bodies buffered: docs/snippets/nginx-unix.conf.</summary>
public sealed class NginxUnixFixture : ResponderFixture
{
    private NginxServer? _nginx;

    internal EchoServer App { get; private set; } = null!;

    internal NginxServer Nginx => _nginx!;

    internal override WebServerProcess Server => Nginx;

    public override async ValueTask InitializeAsync()
    {
        App = await EchoServer.StartAsync(["--threading-level", "1"]);
        _nginx = await NginxServer.StartAsync("nginx-unix.conf", new Dictionary<string, string> { ["/run/echo/echo.sock"] = App.SocketPath });
        AppUri = new Uri(Nginx.BaseUri, "app/");
    }

    protected override async ValueTask StopAsync()
    {
        if (_nginx is not null)
        {
            await _nginx.DisposeAsync();
        }

        await App.DisposeAsync();
    }
}

/// <summary>The responder contract through nginx on TCP with kept connections.</summary>
public sealed class NginxTcpTests(NginxTcpFixture fixture) : ResponderContract(fixture), IClassFixture<NginxTcpFixture>
{
    // fastcgi_params: SCRIPT_NAME is $fastcgi_script_name (the whole path: no fastcgi_split_path_info), no PATH_INFO.
    protected override (string?, string?, string?) ExpectedPaths => ("/app/sub/echo", null, "/app/sub/echo?x=1");

    // Debian's fastcgi_params sets HTTP_HOST to $host (no port); $content_length is empty without a body.
    protected override (string?, string?) ExpectedHostAndLength(string hostAndPort) => ("127.0.0.1", "");

    [Fact]
    public async Task Kept_connections_are_reused()
    {
        var port = ((IPEndPoint)fixture.App.EndPoint).Port;
        using var client = Client();
        for (var i = 0; i < 20; i++)
        {
            using var response = await client.GetAsync("hello", TestContext.Current.CancellationToken);
            Assert.Equal("Hello, world!\n", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        }

        // The connections stay open after the requests ended, at most keepalive (8) idle ones per nginx worker (2).
        Assert.InRange(TcpConnections.EstablishedTo(port), 1, 16);
    }

    [Theory]
    [InlineData("redirect?to=/new/place&code=301", HttpStatusCode.MovedPermanently, null)]
    [InlineData("redirect?to=/new/place&cookie=session", HttpStatusCode.Found, "session=1")]
    public async Task A_redirect_with_a_status_or_a_cookie_reaches_the_client_as_written(string path, HttpStatusCode status, string? cookie)
    {
        using var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = fixture.AppUri };
        using var response = await client.GetAsync(path, TestContext.Current.CancellationToken);
        Assert.Equal(status, response.StatusCode);
        Assert.Equal(new Uri("/new/place", UriKind.Relative), response.Headers.Location);
        string[] expectedCookies = cookie is null ? [] : [cookie];
        Assert.Equal(expectedCookies, response.Headers.TryGetValues("Set-Cookie", out var cookies) ? cookies : []);
        Assert.Equal("", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_handler_that_fails_half_way_gives_the_client_a_truncated_response()
    {
        // With fastcgi_keep_conn on, the application closes the connection without END_REQUEST: nginx ends the chunked
        // body without its last chunk, so the client knows the response is incomplete.
        using var client = Client();
        Assert.Equal(1000, await FailingHalfWay.ReadUntilTheErrorAsync(client));
        Assert.Contains("upstream prematurely closed", await fixture.Nginx.WaitForErrorLogAsync("upstream prematurely closed"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unbuffered_request_body_is_not_spooled_to_disk()
    {
        using var client = Client();
        using var content = new GeneratedContent(8 * 1024 * 1024, variant: 5);
        using var response = await client.PostAsync("upload", content, TestContext.Current.CancellationToken);
        Assert.Equal($"{{\"length\": {8 * 1024 * 1024}, \"sha256\": \"{content.Sha256}\"}}", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.DoesNotContain("a client request body is buffered to a temporary file", fixture.Nginx.ErrorLog(), StringComparison.Ordinal);
    }
}

/// <summary>The responder contract through nginx on a Unix socket without kept connections.</summary>
public sealed class NginxUnixTests(NginxUnixFixture fixture) : ResponderContract(fixture), IClassFixture<NginxUnixFixture>
{
    protected override (string?, string?, string?) ExpectedPaths => ("/app/sub/echo", null, "/app/sub/echo?x=1");

    protected override (string?, string?) ExpectedHostAndLength(string hostAndPort) => ("127.0.0.1", "");

    [Fact]
    public async Task A_handler_that_fails_half_way_over_a_Unix_socket_without_keep_conn_looks_complete()
    {
        // Without FCGI_KEEP_CONN the application closes after every response (spec 5.1), and a Unix socket has no reset:
        // nginx takes the close for the end of the response. Use fastcgi_keep_conn on, or TCP, to let clients know.
        using var client = Client();
        using var response = await client.GetAsync("error?after=1000", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1000, (await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken)).Length);
    }

    [Fact]
    public async Task Buffered_request_body_is_spooled_to_disk_first()
    {
        using var client = Client();
        using var content = new GeneratedContent(8 * 1024 * 1024, variant: 6);
        using var response = await client.PostAsync("upload", content, TestContext.Current.CancellationToken);
        Assert.Equal($"{{\"length\": {8 * 1024 * 1024}, \"sha256\": \"{content.Sha256}\"}}", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Contains("a client request body is buffered to a temporary file", await fixture.Nginx.WaitForErrorLogAsync("buffered to a temporary file"), StringComparison.Ordinal);
    }
}

/// <summary>
/// A client that goes away: nginx closes its connection to the application. The echo sample runs at threading level
/// 0 (one connection at a time), so a later request is answered promptly only if the handler saw the abort and ended.
/// </summary>
public sealed class NginxClientAbortTests
{
    [Fact]
    public async Task Client_gone_during_slow_ends_the_handler_and_nginx_logs_499()
    {
        await using var app = await EchoServer.StartAsync(["--threading-level", "0"], tcp: true);
        var port = ((IPEndPoint)app.EndPoint).Port;
        await using var nginx = await NginxServer.StartAsync("nginx-unix.conf", new Dictionary<string, string> { ["unix:/run/echo/echo.sock"] = app.EndPoint.ToString()! });
        using var client = Http.Client(new Uri(nginx.BaseUri, "app/"));
        using var abandon = new CancellationTokenSource();
        var slow = client.GetAsync("slow?ms=60000", abandon.Token);

        // The request reached the application once nginx's connection to it is up.
        Assert.Equal(1, await TcpConnections.WaitAsync(port, count => count == 1));
        await abandon.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => slow);

        var log = await nginx.WaitForAccessLogLinesAsync(1);
        Assert.StartsWith("GET /app/slow?ms=60000 499 0 ", log[0], StringComparison.Ordinal);
        Assert.Contains("client prematurely closed connection", nginx.ErrorLog(), StringComparison.Ordinal);

        var started = DateTime.UtcNow;
        using var hello = await client.GetAsync("hello", TestContext.Current.CancellationToken);
        Assert.Equal("Hello, world!\n", await hello.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.Zero, TimeSpan.FromSeconds(20));
        Assert.False(app.HasExited);

        // Without fastcgi_keep_conn nginx closes the connection once a request is done.
        Assert.Equal(0, await TcpConnections.WaitAsync(port, count => count == 0));
    }

    [Fact]
    public async Task A_handler_that_fails_half_way_over_TCP_without_keep_conn_resets_the_connection()
    {
        // Without FCGI_KEEP_CONN a plain close would end the response as complete: the application resets instead.
        await using var app = await EchoServer.StartAsync(["--threading-level", "1"], tcp: true);
        await using var nginx = await NginxServer.StartAsync("nginx-unix.conf", new Dictionary<string, string> { ["unix:/run/echo/echo.sock"] = app.EndPoint.ToString()! });
        using var client = Http.Client(new Uri(nginx.BaseUri, "app/"));
        Assert.InRange(await FailingHalfWay.ReadUntilTheErrorAsync(client), 0, 1000);
        Assert.Contains("Connection reset by peer", await nginx.WaitForErrorLogAsync("Connection reset by peer"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Client_gone_during_big_ends_the_handler()
    {
        const long bytes = 20L * 1024 * 1024 * 1024;
        await using var app = await EchoServer.StartAsync(["--threading-level", "0"], tcp: true);
        await using var nginx = await NginxServer.StartAsync("nginx-unix.conf", new Dictionary<string, string> { ["unix:/run/echo/echo.sock"] = app.EndPoint.ToString()! });
        using var client = Http.Client(new Uri(nginx.BaseUri, "app/"));
        using (var response = await client.GetAsync($"big?bytes={bytes}", HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await using var stream = await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken);
            var buffer = new byte[1024 * 1024];
            await stream.ReadExactlyAsync(buffer, TestContext.Current.CancellationToken);
        }

        // The response had started: nginx logs the 200 it sent, with far fewer than 20 GB.
        var log = await nginx.WaitForAccessLogLinesAsync(1);
        var fields = log[0].Split(' ');
        Assert.Equal(("GET", $"/app/big?bytes={bytes}", "200"), (fields[0], fields[1], fields[2]));
        Assert.InRange(long.Parse(fields[3], System.Globalization.CultureInfo.InvariantCulture), 1024 * 1024, bytes / 2);

        // 20 GB would take the application far longer than this to write: it stopped when nginx hung up.
        using var hello = await client.GetAsync("hello", TestContext.Current.CancellationToken);
        Assert.Equal("Hello, world!\n", await hello.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.False(app.HasExited);
    }
}

/// <summary>The echo sample's <c>error?after=1000</c>: 1000 bytes of an unbuffered body, then the handler throws.</summary>
internal static class FailingHalfWay
{
    /// <summary>
    /// Reads the response until the client's error for an incomplete body (any other end fails the test); returns how
    /// many bytes came, each checked against the pattern.
    /// </summary>
    public static async Task<int> ReadUntilTheErrorAsync(HttpClient client)
    {
        using var response = await client.GetAsync("error?after=1000", HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var body = await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken);
        var received = new MemoryStream();
        var error = await Assert.ThrowsAsync<HttpIOException>(() => body.CopyToAsync(received, TestContext.Current.CancellationToken));
        Assert.Equal(HttpRequestError.ResponseEnded, error.HttpRequestError);
        var pattern = "0123456789abcdef"u8.ToArray();
        Assert.All(received.ToArray().Select((b, i) => (b, i)), x => Assert.Equal(pattern[x.i % 16], x.b));
        return (int)received.Length;
    }
}

/// <summary>
/// 60 KB of request headers (with <c>large_client_header_buffers</c> raised so nginx takes them): nginx sends them
/// as one PARAMS record near the 65,535-byte maximum, and the echo sample must see every header byte for byte.
/// </summary>
public sealed class NginxLargeHeaderTests
{
    [Fact]
    public async Task Sixty_KB_of_request_headers_reach_the_handler_byte_exact()
    {
        await using var app = await EchoServer.StartAsync(["--threading-level", "2"], tcp: true);
        await using var nginx = await NginxServer.StartAsync(server =>
            Snippets.Render("nginx-tcp.conf", server, server.Port, new Dictionary<string, string> { ["127.0.0.1:9000"] = app.EndPoint.ToString()! })
                .Replace("server {", "server {\n    large_client_header_buffers 8 64k;", StringComparison.Ordinal));
        using var client = Http.Client(new Uri(nginx.BaseUri, "app/"));

        // Six headers of 10,000 bytes: every printable ASCII character, in a different order in each.
        var headers = Enumerable.Range(0, 6).ToDictionary(
            i => $"X-Big-{i}",
            i => string.Concat(Enumerable.Range(0, 10_000).Select(j => (char)(0x21 + ((j * (i + 1)) % 94)))));
        using var request = new HttpRequestMessage(HttpMethod.Get, "echo");
        foreach (var (name, value) in headers)
        {
            Assert.True(request.Headers.TryAddWithoutValidation(name, value));
        }

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var environ = (await Http.JsonAsync(response)).GetProperty("environ");
        var seen = environ.EnumerateObject()
            .Where(variable => variable.Name.StartsWith("HTTP_", StringComparison.Ordinal))
            .ToDictionary(variable => variable.Name, variable => variable.Value.GetString());
        var expected = headers.ToDictionary(header => "HTTP_" + header.Key.ToUpperInvariant().Replace('-', '_'), header => (string?)header.Value);
        expected["HTTP_HOST"] = "127.0.0.1";
        Assert.Equal(expected.OrderBy(pair => pair.Key, StringComparer.Ordinal), seen.OrderBy(pair => pair.Key, StringComparer.Ordinal));
    }
}
