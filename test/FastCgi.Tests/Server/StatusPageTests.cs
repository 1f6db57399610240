using System.Diagnostics.Metrics;
using System.Net;
using FastCgi.Connection;
using FastCgi.Server;
using FastCgi.Tests.Connection;
using FastCgi.Tests.Support;
using Xunit;
using static FastCgi.Testing.CgiVariables;
using static FastCgi.Testing.FcgiRecords;

namespace FastCgi.Tests.Server;

/// <summary>
/// The status and ping pages (php-fpm's <c>pm.status_path</c> and <c>ping.path</c>) that the host answers itself, and
/// the same figures as the <c>FastCgi.Server</c> meter: exact bodies and headers in each format after a scripted
/// sequence (a request answered, one held, one aborted, one refused for want of a slot, one refused for a busy
/// connection, a connection refused by FCGI_WEB_SERVER_ADDRS) on the fake clock; the pages never reach the
/// application, do not count as requests, and are served while every request slot is taken.
/// </summary>
public sealed class StatusPageTests
{
    private const string NoCache = "Expires: Thu, 01 Jan 1970 00:00:00 GMT\r\nCache-Control: no-cache, no-store, must-revalidate\r\n\r\n";

    private static readonly FastCgiServerOptions PagesOptions = new()
    {
        StatusPath = "/status",
        PingPath = "/ping",
        WebServerAddresses = "127.0.0.1",
        LoggerFactory = null,
        Limits = FastCgiServerLimits.Default with { MaxConcurrentRequests = 2 },
    };

    private static readonly IPEndPoint Nginx = new(IPAddress.Loopback, 40000);

    [Fact]
    public async Task The_ping_page_answers_pong_with_no_caching_and_never_reaches_the_application()
    {
        var app = new TestApp();
        await using var server = new InMemoryServer(app.Handlers, PagesOptions);
        await using var web = server.Connect(Nginx);

        var ping = await web.WebServer.RequestAsync(1, Environ("/ping"));
        var status = await web.WebServer.RequestAsync(2, Environ("/status"));

        // The test application answers any other path with its 404 page.
        Assert.Equal("Content-Type: text/plain; charset=utf-8\r\n" + NoCache + "pong", ping.Text);
        Assert.Equal((0, 0), (ping.AppStatus, (int)ping.ProtocolStatus));
        Assert.Contains("accepted requests:   0\n", status.BodyText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_ping_response_is_the_one_configured()
    {
        await using var server = new InMemoryServer(new TestApp().Handlers, PagesOptions with { PingPath = "/fpm-ping", PingResponse = "ok\n" });
        await using var web = server.Connect(Nginx);

        Assert.Equal("ok\n", (await web.WebServer.RequestAsync(1, Environ("/fpm-ping"))).BodyText);
        Assert.Equal("not found\n", (await web.WebServer.RequestAsync(2, Environ("/ping"))).BodyText);
    }

    [Fact]
    public async Task The_status_page_in_text_counts_what_the_host_did()
    {
        await using var scene = await Scene.PlayAsync();

        var page = await scene.StatusAsync("");

        Assert.Equal("Content-Type: text/plain; charset=utf-8\r\n" + NoCache + Figures, page.Text);
    }

    [Fact]
    public async Task The_full_status_page_lists_the_requests_in_flight_without_their_query_strings()
    {
        await using var scene = await Scene.PlayAsync();

        var page = await scene.StatusAsync("full");

        Assert.Equal(
            Figures + """

            ************************
            request id:          2
            connection:          1
            role:                responder
            state:               running
            request method:      GET
            request uri:         /wait
            request duration:    1500000

            """,
            page.BodyText);
    }

    [Fact]
    public async Task The_status_page_in_json_has_php_fpm_s_field_names()
    {
        await using var scene = await Scene.PlayAsync();

        var page = await scene.StatusAsync("json");
        var full = await scene.StatusAsync("full&json");

        const string figures = """
            {"start time":946684800,"start since":1,"threading level":1,"accepted conn":3,"active conn":3,"rejected conn":1,"accepted requests":3,"ended requests":2,"active requests":1,"max active requests":2,"rejected requests":2,"listen queue":null,"max listen queue":null,"listen queue len":null
            """;
        Assert.Equal("Content-Type: application/json\r\n" + NoCache + figures + "}", page.Text);
        Assert.Equal(
            figures + ""","requests":[{"request id":2,"connection":1,"role":"responder","state":"running","request method":"GET","request uri":"/wait","request duration":1500000}]}""",
            full.BodyText);
    }

    [Fact]
    public async Task The_status_page_in_openmetrics_is_a_prometheus_scrape()
    {
        await using var scene = await Scene.PlayAsync();

        var page = await scene.StatusAsync("openmetrics");

        Assert.Equal(
            "Content-Type: application/openmetrics-text; version=1.0.0; charset=utf-8\r\n" + NoCache + """
            # TYPE fastcgi_start_time_seconds gauge
            # UNIT fastcgi_start_time_seconds seconds
            # HELP fastcgi_start_time_seconds When the server started, in seconds since the Unix epoch.
            fastcgi_start_time_seconds 946684800
            # TYPE fastcgi_accepted_connections counter
            # HELP fastcgi_accepted_connections Connections accepted from web servers.
            fastcgi_accepted_connections_total 3
            # TYPE fastcgi_active_connections gauge
            # HELP fastcgi_active_connections Connections being served.
            fastcgi_active_connections 3
            # TYPE fastcgi_rejected_connections counter
            # HELP fastcgi_rejected_connections Connections closed unserved: not from FCGI_WEB_SERVER_ADDRS.
            fastcgi_rejected_connections_total 1
            # TYPE fastcgi_accepted_requests counter
            # HELP fastcgi_accepted_requests Requests admitted to the application.
            fastcgi_accepted_requests_total 3
            # TYPE fastcgi_ended_requests counter
            # HELP fastcgi_ended_requests Admitted requests that ended, answered or aborted.
            fastcgi_ended_requests_total 2
            # TYPE fastcgi_active_requests gauge
            # HELP fastcgi_active_requests Requests in flight.
            fastcgi_active_requests 1
            # TYPE fastcgi_max_active_requests gauge
            # HELP fastcgi_max_active_requests The most requests in flight at once since the server started.
            fastcgi_max_active_requests 2
            # TYPE fastcgi_rejected_requests counter
            # HELP fastcgi_rejected_requests Requests refused with END_REQUEST, by protocol status.
            fastcgi_rejected_requests_total{protocol_status="overloaded"} 1
            fastcgi_rejected_requests_total{protocol_status="cant_mpx_conn"} 1
            # EOF

            """,
            page.Text);
    }

    [Fact]
    public async Task The_meter_reports_the_same_figures()
    {
        await using var scene = await Scene.PlayAsync();
        var measured = new Dictionary<string, long>(StringComparer.Ordinal);
        var units = new Dictionary<string, string?>(StringComparer.Ordinal);
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter == scene.Server.Host.Meter)
                {
                    units[instrument.Name] = instrument.Unit;
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var tag = tags.Length == 0 ? "" : $"{{{tags[0].Key}={tags[0].Value}}}";
            measured[instrument.Name + tag] = value;
        });
        listener.Start();

        listener.RecordObservableInstruments();

        Assert.Equal("FastCgi.Server", scene.Server.Host.Meter!.Name);
        Assert.Equal(
            new Dictionary<string, long>
            {
                ["fastcgi.accepted_connections"] = 3,
                ["fastcgi.active_connections"] = 3,
                ["fastcgi.rejected_connections"] = 1,
                ["fastcgi.accepted_requests"] = 3,
                ["fastcgi.ended_requests"] = 2,
                ["fastcgi.active_requests"] = 1,
                ["fastcgi.max_active_requests"] = 2,
                ["fastcgi.rejected_requests{fastcgi.protocol_status=overloaded}"] = 1,
                ["fastcgi.rejected_requests{fastcgi.protocol_status=cant_mpx_conn}"] = 1,
            },
            measured);

        // The listen queue's instruments exist, and measure nothing where the system does not tell the queue.
        Assert.Equal("{connection}", units["fastcgi.queued_connections"]);
        Assert.Equal("{connection}", units["fastcgi.queued_connections.limit"]);
        Assert.Equal("{request}", units["fastcgi.active_requests"]);
    }

    [Fact]
    public async Task The_status_and_ping_pages_are_served_while_every_request_slot_is_taken()
    {
        var app = new TestApp();
        await using var server = new InMemoryServer(app.Handlers, PagesOptions with { Limits = FastCgiServerLimits.Default with { MaxConcurrentRequests = 1 } });
        await using var busy = server.Connect(Nginx);
        await using var monitor = server.Connect(Nginx);
        await busy.WebServer.SendAsync(Request(1, Environ("/wait?a"), []));
        await app["a"].Entered.Within("request a to reach its gate");

        await monitor.WebServer.SendAsync(Request(1, Environ("/hello"), []));
        await monitor.WebServer.ExpectOverloadedAsync(1);
        var ping = await monitor.WebServer.RequestAsync(2, Environ("/ping"));
        var status = await monitor.WebServer.RequestAsync(3, Environ("/status"));

        Assert.Equal("pong", ping.BodyText);
        Assert.Contains("active requests:     1\nmax active requests: 1\nrejected requests:   1\n", status.BodyText, StringComparison.Ordinal);
        app["a"].Open();
        await busy.WebServer.ExpectWaitedAsync(1, "a");
    }

    [Fact]
    public async Task While_every_slot_is_taken_only_the_reserve_waits_for_its_params_and_must_ask_for_a_page()
    {
        var app = new TestApp();
        await using var server = new InMemoryServer(app.Handlers, PagesOptions with { Limits = FastCgiServerLimits.Default with { MaxConcurrentRequests = 1 } });
        await using var busy = server.Connect(Nginx);
        await busy.WebServer.SendAsync(Request(1, Environ("/wait?a"), []));
        await app["a"].Entered.Within("request a to reach its gate");

        // Each of these holds PARAMS the host buffers: beyond the reserve, refused at BEGIN_REQUEST as without pages.
        var waiting = new List<WebServerConnection>();
        for (var i = 0; i < RequestAdmission.PageReserve; i++)
        {
            var connection = server.Connect(Nginx);
            waiting.Add(connection);
            await connection.WebServer.SendAsync(Begin(1));
        }

        await using var beyond = server.Connect(Nginx);
        await beyond.WebServer.SendAsync(Begin(1));
        await beyond.WebServer.ExpectOverloadedAsync(1);

        await waiting[0].WebServer.SendAsync(AfterBegin(Request(1, Environ("/hello"), [])));
        await waiting[0].WebServer.ExpectOverloadedAsync(1);
        await waiting[1].WebServer.SendAsync(AfterBegin(Request(1, Environ("/ping"), [])));
        Assert.Equal("pong", (await waiting[1].WebServer.ReadResponseAsync(1)).BodyText);

        app["a"].Open();
        await busy.WebServer.ExpectWaitedAsync(1, "a");
        foreach (var connection in waiting)
        {
            await connection.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_request_whose_params_end_after_max_requests_was_reached_is_still_served()
    {
        var app = new TestApp();
        await using var server = new InMemoryServer(app.Handlers, PagesOptions with { MaxRequests = 1 });
        await using var early = server.Connect(Nginx);
        await using var other = server.Connect(Nginx);
        await early.WebServer.SendAsync(Begin(1));

        Assert.Equal("Hello, world!\n", (await other.WebServer.RequestAsync(1, Environ("/hello"))).BodyText);
        await server.Listener.Stopped.Within("the host to stop accepting after its one request");

        // Begun before the host stopped, as without the pages, where its slot was counted at BEGIN_REQUEST.
        await early.WebServer.SendAsync(AfterBegin(Request(1, Environ("/hello"), [])));
        await early.WebServer.ExpectHelloAsync(1);
    }

    [Fact]
    public async Task The_pages_do_not_count_towards_max_requests()
    {
        var app = new TestApp();
        await using var server = new InMemoryServer(app.Handlers, PagesOptions with { MaxRequests = 1 });
        await using var web = server.Connect(Nginx);

        for (ushort id = 1; id <= 3; id++)
        {
            Assert.Equal("pong", (await web.WebServer.RequestAsync(id, Environ("/ping"))).BodyText);
        }

        Assert.False(server.Listener.Stopped.IsCompleted);
        Assert.Equal("Hello, world!\n", (await web.WebServer.RequestAsync(4, Environ("/hello"))).BodyText);
        await server.Listener.Stopped.Within("the host to stop after its one request");
    }

    [Theory]
    [InlineData("/status/", null, null)]
    [InlineData("/Status", null, null)]
    [InlineData("/%73tatus", null, null)]
    [InlineData("/app/status", null, null)]
    [InlineData(null, "/status", "/x")]
    [InlineData("/status", "/index.php", null)]
    [InlineData("/status?x=1", "/index.php", "/status")]
    [InlineData("/admin", "/status", null)]
    public async Task Only_the_exact_path_asked_for_and_routed_to_is_the_status_page(string? requestUri, string? scriptName, string? pathInfo)
    {
        await using var server = new InMemoryServer(new TestApp().Handlers, PagesOptions);
        await using var web = server.Connect(Nginx);

        var response = await web.WebServer.RequestAsync(1, Variables(requestUri, scriptName, pathInfo));

        Assert.Equal("not found\n", response.BodyText);
    }

    [Theory]
    [InlineData("/status", null, null)]
    [InlineData("/status?x=1", "/status", null)]
    [InlineData("/status", "", "/status")]
    [InlineData(null, "/status", null)]
    [InlineData(null, "/sta", "tus")]
    [InlineData(null, "", "/status")]
    public async Task The_path_asked_for_and_the_path_routed_to_are_the_page_s_where_the_web_server_sends_them(string? requestUri, string? scriptName, string? pathInfo)
    {
        await using var server = new InMemoryServer(new TestApp().Handlers, PagesOptions);
        await using var web = server.Connect(Nginx);

        var response = await web.WebServer.RequestAsync(1, Variables(requestUri, scriptName, pathInfo));

        Assert.StartsWith("start time:          01/Jan/2000:00:00:00 +0000\n", response.BodyText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Only_a_responder_request_is_a_page()
    {
        await using var server = new InMemoryServer(new TestApp().Handlers, PagesOptions);
        await using var web = server.Connect(Nginx);

        var response = await web.WebServer.RequestAsync(1, Environ("/ping"), role: Authorizer);

        Assert.Equal("forbidden\n", response.BodyText);
    }

    /// <summary>A request's records after its BEGIN_REQUEST (sent on its own first).</summary>
    private static byte[] AfterBegin(byte[] request) => request[Begin(1).Length..];

    private const string Figures = """
        start time:          01/Jan/2000:00:00:00 +0000
        start since:         1
        threading level:     1
        accepted conn:       3
        active conn:         3
        rejected conn:       1
        accepted requests:   3
        ended requests:      2
        active requests:     1
        max active requests: 2
        rejected requests:   2
        listen queue:        n/a
        max listen queue:    n/a
        listen queue len:    n/a

        """;

    private static Dictionary<string, string> Variables(string? requestUri, string? scriptName, string? pathInfo)
    {
        var variables = Bare(requestUri?.Split('?') is [_, var query] ? query : "");
        foreach (var (name, value) in new[] { ("REQUEST_URI", requestUri), ("SCRIPT_NAME", scriptName), ("PATH_INFO", pathInfo) })
        {
            if (value is not null)
            {
                variables[name] = value;
            }
        }

        return variables;
    }

    /// <summary>
    /// The scripted sequence, on a host with two request slots: connection 1 gets /hello answered, then holds
    /// /wait?a; connection 2's /wait?b is aborted by the web server; connection 3's /hello is refused (no slot left),
    /// and so is a second request on connection 1 (one request per connection at level 1); a web server from
    /// another address is refused. 1.5 s pass on the fake clock.
    /// </summary>
    private sealed class Scene : IAsyncDisposable
    {
        private readonly TestApp _app = new();
        private readonly List<WebServerConnection> _connections = [];
        private ushort _nextId = 2;

        private Scene() => Server = new InMemoryServer(_app.Handlers, PagesOptions);

        public InMemoryServer Server { get; }

        private WebServerConnection Monitor => _connections[2];

        public static async Task<Scene> PlayAsync()
        {
            var scene = new Scene();
            var first = scene.Connect();
            var second = scene.Connect();
            var third = scene.Connect();
            await using (var stranger = scene.Server.Connect(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 40000)))
            {
                await stranger.Closed.Within("the host to close a connection from an address not allowed");
            }

            Assert.Equal("Hello, world!\n", (await first.WebServer.RequestAsync(1, Environ("/hello"))).BodyText);
            await first.WebServer.SendAsync(Request(2, Environ("/wait?a&secret=1"), []));
            await scene._app["a&secret=1"].Entered.Within("request a to reach its gate");
            await second.WebServer.SendAsync(Request(1, Environ("/wait?b"), []));
            await scene._app["b"].Entered.Within("request b to reach its gate");
            await third.WebServer.SendAsync(Request(1, Environ("/hello"), []));
            await third.WebServer.ExpectOverloadedAsync(1);
            await first.WebServer.SendAsync(Request(3, Environ("/hello"), []));
            await first.WebServer.ExpectEndRequestAsync(3, protocolStatus: 1);
            await second.WebServer.SendAsync(Record(AbortRequest, 1, []));
            Assert.Equal(AbortReason.WebServer, await scene._app["b"].Left.Within("request b to be aborted"));
            Assert.Equal(0, (await second.WebServer.ReadResponseAsync(1)).ProtocolStatus);
            scene.Server.AdvanceTime(TimeSpan.FromMilliseconds(1500));
            return scene;
        }

        public Task<Testing.FcgiResponse> StatusAsync(string query) =>
            Monitor.WebServer.RequestAsync(_nextId++, Environ(query.Length == 0 ? "/status" : "/status?" + query));

        public async ValueTask DisposeAsync()
        {
            _app["a&secret=1"].Open();
            foreach (var connection in _connections)
            {
                await connection.DisposeAsync();
            }

            await Server.DisposeAsync();
        }

        private WebServerConnection Connect()
        {
            var connection = Server.Connect(Nginx);
            _connections.Add(connection);
            return connection;
        }
    }
}
