using FastCgi.Server;
using FastCgi.Tests.Connection;
using FastCgi.Tests.Support;
using Xunit;
using static FastCgi.Testing.CgiVariables;
using static FastCgi.Testing.FcgiRecords;

namespace FastCgi.Tests.Server;

/// <summary>
/// FCGI_MAX_CONNS at the host (README, limits): at the limit a new connection closes the connection idle the
/// longest, never one with a request in flight; when every connection is busy the new one waits, unserved, until
/// one closes.
/// </summary>
public sealed class ConnectionLimitTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task At_the_limit_a_new_connection_closes_the_one_idle_longest(bool firstIdlesLonger)
    {
        var log = new CapturingLoggerFactory();
        await using var server = new InMemoryServer(new TestApp().Handlers, Options(2) with { LoggerFactory = log });
        await using var first = server.Connect();
        await using var second = server.Connect();
        await first.WebServer.SendAsync(Request(1, Environ("/hello"), []));
        await first.WebServer.ExpectHelloAsync(1);
        await second.WebServer.SendAsync(Request(1, Environ("/hello"), []));
        await second.WebServer.ExpectHelloAsync(1);

        // Idle since is measured on the host's clock: one more request a minute later makes that connection the fresher.
        server.AdvanceTime(TimeSpan.FromMinutes(1));
        var (fresher, older) = firstIdlesLonger ? (second, first) : (first, second);
        await fresher.WebServer.SendAsync(Request(2, Environ("/hello"), []));
        await fresher.WebServer.ExpectHelloAsync(2);

        await using var third = server.Connect();
        await third.WebServer.SendAsync(Request(1, Environ("/hello"), []));
        await third.WebServer.ExpectHelloAsync(1);
        await older.WebServer.ExpectClosedAsync();
        await older.Closed.Within("the evicted connection to close");
        Assert.False(older.WasReset);
        await log.LineAsync("closed while idle: FCGI_MAX_CONNS reached and a new connection waits");

        await fresher.WebServer.SendAsync(Request(3, Environ("/hello"), []));
        await fresher.WebServer.ExpectHelloAsync(3);
    }

    [Fact]
    public async Task At_the_limit_with_every_connection_busy_a_new_one_waits_unserved_until_one_closes()
    {
        var app = new TestApp();
        var log = new CapturingLoggerFactory();
        await using var server = new InMemoryServer(app.Handlers, Options(2) with { LoggerFactory = log });
        await using var first = server.Connect();
        await using var second = server.Connect();
        await first.WebServer.SendAsync(Request(1, Environ("/wait?first"), [], keepConnection: false));
        await second.WebServer.SendAsync(Request(1, Environ("/wait?second"), []));
        await Task.WhenAll(app["first"].Entered, app["second"].Entered).Within("both requests to reach their gates");

        await using var third = server.Connect();
        await third.WebServer.SendAsync(Request(1, Environ("/hello"), []));
        await log.LineAsync("FCGI_MAX_CONNS (2) reached and no connection is idle: a new connection waits for one to close");

        // The host took the third connection from the backlog and waits for a slot before it reads a byte of it.
        Assert.True(third.Accepted.IsCompleted);
        Assert.Empty(third.WebServer.TakeAvailableRecords());
        Assert.False(app["first"].Left.IsCompleted || app["second"].Left.IsCompleted);
        Assert.DoesNotContain(log.Lines, line => line.Contains("closed while idle", StringComparison.Ordinal));

        // The first request ends without FCGI_KEEP_CONN, so its connection closes and frees the slot.
        app["first"].Open();
        await first.WebServer.ExpectWaitedAsync(1, "first");
        await first.WebServer.ExpectClosedAsync();
        await third.WebServer.ExpectHelloAsync(1);

        Assert.False(app["second"].Left.IsCompleted);
        app["second"].Open();
        await second.WebServer.ExpectWaitedAsync(1, "second");
    }

    private static FastCgiServerOptions Options(int maxConnections) => new()
    {
        ThreadingLevel = ThreadingLevel.PerConnection,
        Limits = FastCgiServerLimits.Default with { MaxConnections = maxConnections },
    };
}
