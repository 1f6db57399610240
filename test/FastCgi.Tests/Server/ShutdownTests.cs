using FastCgi.Connection;
using FastCgi.Server;
using FastCgi.Tests.Connection;
using FastCgi.Tests.Support;
using Xunit;
using static FastCgi.Testing.CgiVariables;
using static FastCgi.Testing.FcgiRecords;

namespace FastCgi.Tests.Server;

/// <summary>
/// <see cref="FastCgiHost.Stop"/> and the drain (README, limits: shutdown drain): new connections are refused, an
/// idle connection closes, a new request gets FCGI_OVERLOADED, requests in flight finish; past
/// <see cref="FastCgiHostOptions.ShutdownTimeout"/> on the host's clock the rest are aborted and still get END_REQUEST.
/// </summary>
public sealed class ShutdownTests
{
    [Fact]
    public async Task Stop_refuses_new_connections_and_requests_and_lets_requests_in_flight_finish()
    {
        var app = new TestApp();
        await using var server = new InMemoryServer(app.Handlers, new FastCgiServerOptions { ThreadingLevel = ThreadingLevel.Multiplexed });
        await using var busy = server.Connect();
        await using var idle = server.Connect();
        await idle.WebServer.SendAsync(Request(1, Environ("/hello"), []));
        await idle.WebServer.ExpectHelloAsync(1);
        await busy.WebServer.SendAsync(Request(1, Environ("/wait?a"), []));
        await app["a"].Entered.Within("request a to reach its gate");

        server.Host.Stop();
        await server.Listener.Stopped.Within("the host to stop accepting");
        Assert.Throws<InvalidOperationException>(() => server.Connect());
        await idle.WebServer.ExpectClosedAsync();
        await busy.WebServer.SendAsync(Request(2, Environ("/hello"), []));
        await busy.WebServer.ExpectOverloadedAsync(2);

        Assert.False(server.Run.IsCompleted);
        app["a"].Open();
        await busy.WebServer.ExpectWaitedAsync(1, "a");
        await busy.WebServer.ExpectClosedAsync();
        await server.Run.Within("the host to return once drained");
        Assert.Equal(AbortReason.None, await app["a"].Left);
    }

    [Fact]
    public async Task Past_the_shutdown_timeout_the_requests_left_are_aborted_and_still_get_end_request()
    {
        var app = new TestApp();
        var clock = new FakeClock();
        var log = new CapturingLoggerFactory();
        var options = new FastCgiServerOptions { ThreadingLevel = ThreadingLevel.Multiplexed, ShutdownTimeout = TimeSpan.FromSeconds(30), TimeProvider = clock, LoggerFactory = log };
        await using var server = new InMemoryServer(app.Handlers, options);
        await using var connection = server.Connect();
        await connection.WebServer.SendAsync([.. Request(1, Environ("/wait?a"), []), .. Request(2, Environ("/wait?b"), [])]);
        await Task.WhenAll(app["a"].Entered, app["b"].Entered).Within("both requests to reach their gates");

        server.Host.Stop();
        await clock.TimerSetAsync(TimeSpan.FromSeconds(30));
        server.AdvanceTime(TimeSpan.FromSeconds(29));
        Assert.False(app["a"].Left.IsCompleted || app["b"].Left.IsCompleted);
        Assert.Empty(connection.WebServer.TakeAvailableRecords());

        // The drain's timer fires on the host's clock: no real time passes.
        server.AdvanceTime(TimeSpan.FromSeconds(1));
        Assert.Equal(AbortReason.WebServer, await app["a"].Left.Within("request a to be aborted"));
        Assert.Equal(AbortReason.WebServer, await app["b"].Left.Within("request b to be aborted"));
        var ended = new[] { await connection.WebServer.ReadResponseAsync(1), await connection.WebServer.ReadResponseAsync(2) };
        Assert.All(ended, response => Assert.Equal((0, (byte)0, ""), (response.AppStatus, response.ProtocolStatus, response.Text)));
        await connection.WebServer.ExpectClosedAsync();
        await server.Run.Within("the host to return after aborting");
        Assert.Contains("Warning FastCgi.Server: Shutdown timeout passed; aborting 2 requests in flight", log.Lines);
    }
}
