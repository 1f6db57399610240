using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using FastCgi.IntegrationTests.Support;
using FastCgi.Testing;
using Xunit;

namespace FastCgi.IntegrationTests.Interop;

/// <summary>
/// The status and ping pages (php-fpm's <c>pm.status_path</c> and <c>ping.path</c>) of the echo sample through
/// nginx, Apache mod_proxy_fcgi and lighttpd with the configs of docs/deployment.md (docs/snippets/*-status.conf):
/// each server's REQUEST_URI reaches the page, the figures count exactly the connections and requests the test
/// made, and a client from another address is refused by the web server. The application runs at threading level 1
/// without kept connections, so each HTTP request is one FastCGI connection.
/// </summary>
public sealed class StatusPageTests
{
    private const string NoCache = "no-cache, no-store, must-revalidate";

    [Fact]
    public async Task Nginx_serves_the_ping_and_the_status_page_in_text_and_json()
    {
        await using var app = await EchoServer.StartAsync(["--status-path", "/status", "--ping-path", "/ping"], tcp: true);
        await using var nginx = await NginxServer.StartAsync("nginx-status.conf", new Dictionary<string, string> { ["127.0.0.1:9000"] = app.EndPoint.ToString()! });

        // The start-up probe (one connection, one request) came first. spawn-fcgi made the socket with a backlog of 1024.
        await AssertFiguresAsync(nginx.BaseUri, probes: 1, listenQueueLength: 1024);
    }

    [Fact]
    public async Task Apache_mod_proxy_fcgi_serves_the_ping_and_the_status_page_in_text_and_json()
    {
        await using var app = await EchoServer.StartAsync(["--status-path", "/status", "--ping-path", "/ping"], tcp: true);
        await using var apache = await ApacheServer.StartAsync(["apache-status.conf"], new Dictionary<string, string> { ["127.0.0.1:9000"] = app.EndPoint.ToString()! });

        await AssertFiguresAsync(apache.BaseUri, probes: 1, listenQueueLength: 1024);
    }

    [Fact]
    public async Task Lighttpd_serves_the_ping_and_the_status_page_of_the_application_it_spawned()
    {
        await using var lighttpd = await LighttpdServer.StartAsync("lighttpd-status.conf");

        // A Unix socket: the kernel does not tell its listen queue.
        await AssertFiguresAsync(lighttpd.BaseUri, probes: 0, listenQueueLength: null);
    }

    [Fact]
    public async Task Nginx_shows_a_blocked_request_in_the_full_status_page_while_it_runs()
    {
        await using var app = await EchoServer.StartAsync(["--status-path", "/status", "--ping-path", "/ping"], tcp: true);
        await using var nginx = await NginxServer.StartAsync("nginx-status.conf", new Dictionary<string, string> { ["127.0.0.1:9000"] = app.EndPoint.ToString()! });
        using var client = Http.Client(nginx.BaseUri);
        var blocked = client.GetStringAsync("app/block?ms=5000&who=secret", TestContext.Current.CancellationToken);

        // Monitoring's own way of knowing: ask until the request is in flight (each ask is one connection more).
        var asked = 0;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await StatusJsonAsync(client)).GetProperty("active requests").GetInt64() == 0)
        {
            asked++;
            Assert.True(DateTime.UtcNow < deadline, "The blocked request never showed in the status page.");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        var full = await client.GetStringAsync("status?full", TestContext.Current.CancellationToken);
        Assert.Contains("active requests:     1\nmax active requests: 1\n", full, StringComparison.Ordinal);
        var listed = full.Split("\n************************\n")[1];
        var match = System.Text.RegularExpressions.Regex.Match(
            listed,
            @"^request id:          1\nconnection:          (\d+)\nrole:                responder\nstate:               running\n"
            + @"request method:      GET\nrequest uri:         /app/block\nrequest duration:    \d+\n$");
        Assert.True(match.Success, listed);

        // Connection 1 was the probe; the asks (the last one included) may have been accepted before the blocked request.
        Assert.InRange(int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 2, 2 + asked + 1);

        Assert.Equal("blocked 5000\n", await blocked);
        var after = await StatusJsonAsync(client);

        // The probe, the blocked request, every ask, the full page and this one; the probe's request and the blocked one.
        Assert.Equal(
            (1 + 1 + asked + 1 + 1 + 1, 2, 2, 0, 1),
            (Long(after, "accepted conn"), Long(after, "accepted requests"), Long(after, "ended requests"),
                Long(after, "active requests"), Long(after, "max active requests")));

        // This page's connection, and any earlier one whose close has not finished yet.
        Assert.InRange(Long(after, "active conn"), 1, 1 + 1 + asked + 1 + 1 + 1);
    }

    [Fact]
    public async Task Nginx_refuses_the_pages_to_a_client_from_another_address()
    {
        await using var app = await EchoServer.StartAsync(["--status-path", "/status", "--ping-path", "/ping"], tcp: true);
        await using var nginx = await NginxServer.StartAsync("nginx-status.conf", new Dictionary<string, string> { ["127.0.0.1:9000"] = app.EndPoint.ToString()! });
        using var stranger = new HttpClient(new SocketsHttpHandler { ConnectCallback = ConnectFrom127002Async }) { BaseAddress = nginx.BaseUri };
        using var local = Http.Client(nginx.BaseUri);

        using var refused = await stranger.GetAsync("status", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("Hello, world!\n", await stranger.GetStringAsync("app/hello", TestContext.Current.CancellationToken));

        // The probe, the hello, and this request reached the application; the refused one did not.
        Assert.Equal(3, Long(await StatusJsonAsync(local), "accepted conn"));
    }

    /// <summary>
    /// A ping, two hellos, then the status page twice: the figures count exactly those (after <paramref name="probes"/>
    /// start-up probes of one connection and one request each) in JSON and in text.
    /// </summary>
    private static async Task AssertFiguresAsync(Uri baseUri, int probes, long? listenQueueLength)
    {
        using var client = Http.Client(baseUri);
        using var ping = await client.GetAsync("ping", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, ping.StatusCode);
        Assert.Equal("text/plain; charset=utf-8", ping.Content.Headers.ContentType?.ToString());
        Assert.Equal(NoCache, CacheControl(ping));
        Assert.Equal("pong", await ping.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal("Hello, world!\n", await client.GetStringAsync("app/hello", TestContext.Current.CancellationToken));
        }

        using var json = await client.GetAsync("status?json", TestContext.Current.CancellationToken);
        Assert.Equal(NoCache, CacheControl(json));
        var figures = await Http.JsonAsync(json);
        // The page's own connection, and any of the earlier ones whose close has not finished yet: the web server
        // closes its end after the response, and the host's lingering close ends when it sees that.
        var active = Long(figures, "active conn");
        Assert.InRange(active, 1, probes + 4);
        Assert.Equal(
            (probes + 4L, active, 0L, probes + 2L, probes + 2L, 0L, 1L, 0L, 1L),
            (Long(figures, "accepted conn"), Long(figures, "active conn"), Long(figures, "rejected conn"), Long(figures, "accepted requests"),
                Long(figures, "ended requests"), Long(figures, "active requests"), Long(figures, "max active requests"),
                Long(figures, "rejected requests"), Long(figures, "threading level")));
        Assert.Equal(listenQueueLength, LongOrNull(figures, "listen queue len"));
        Assert.Equal(listenQueueLength is null ? null : 0, LongOrNull(figures, "listen queue"));
        Assert.InRange(Long(figures, "start since"), 0, 120);

        using var text = await client.GetAsync("status", TestContext.Current.CancellationToken);
        Assert.Equal("text/plain; charset=utf-8", text.Content.Headers.ContentType?.ToString());
        var lines = (await text.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).Split('\n');
        var queue = listenQueueLength is { } capacity ? ("0", capacity.ToString(System.Globalization.CultureInfo.InvariantCulture)) : ("n/a", "n/a");
        Assert.Equal(
            [
                "threading level:     1",
                $"accepted conn:       {probes + 5}",
                $"active conn:         {lines[4]["active conn:         ".Length..]}",
                "rejected conn:       0",
                $"accepted requests:   {probes + 2}",
                $"ended requests:      {probes + 2}",
                "active requests:     0",
                "max active requests: 1",
                "rejected requests:   0",
                $"listen queue:        {queue.Item1}",
                $"max listen queue:    {queue.Item1}",
                $"listen queue len:    {queue.Item2}",
                "",
            ],
            lines[2..]);
        Assert.InRange(long.Parse(lines[4]["active conn:         ".Length..], System.Globalization.CultureInfo.InvariantCulture), 1, probes + 5);
        Assert.Matches(@"^start time:          \d\d/[A-Z][a-z][a-z]/\d{4}:\d\d:\d\d:\d\d \+0000$", lines[0]);
    }

    private static async Task<JsonElement> StatusJsonAsync(HttpClient client)
    {
        using var response = await client.GetAsync("status?json", TestContext.Current.CancellationToken);
        return await Http.JsonAsync(response);
    }

    /// <summary>The header as sent (the typed header would reorder its directives).</summary>
    private static string? CacheControl(HttpResponseMessage response) =>
        response.Headers.NonValidated.TryGetValues("Cache-Control", out var values) ? values.ToString() : null;

    private static long Long(JsonElement figures, string name) => figures.GetProperty(name).GetInt64();

    private static long? LongOrNull(JsonElement figures, string name) =>
        figures.GetProperty(name) is { ValueKind: JsonValueKind.Number } value ? value.GetInt64() : null;

    private static async ValueTask<Stream> ConnectFrom127002Async(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0));
            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
