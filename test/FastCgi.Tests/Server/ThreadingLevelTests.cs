using FastCgi.Server;
using FastCgi.Tests.Connection;
using FastCgi.Tests.Support;
using Xunit;
using static FastCgi.Testing.CgiVariables;
using static FastCgi.Testing.FcgiRecords;

namespace FastCgi.Tests.Server;

/// <summary>
/// jonpy's threading levels at the host: level 0 serves one connection at a time (the next waits in the backlog
/// until it closes), level 1 many connections with one request each (FCGI_CANT_MPX_CONN), level 2 multiplexes;
/// GET_VALUES answers what each level enforces.
/// </summary>
public sealed class ThreadingLevelTests
{
    [Fact]
    public async Task Level_0_serves_one_connection_at_a_time()
    {
        var app = new TestApp();
        await using var server = new InMemoryServer(app.Handlers, Options(ThreadingLevel.Sequential));
        await using var first = server.Connect();
        await first.WebServer.SendAsync(Request(1, Environ("/wait?a"), []));
        await app["a"].Entered.Within("request a to reach its gate");
        await using var second = server.Connect();
        await second.WebServer.SendAsync(Request(1, Environ("/hello"), []));

        // The first connection is served to its end, kept requests and all, while the second waits in the backlog.
        app["a"].Open();
        await first.WebServer.ExpectWaitedAsync(1, "a");
        await first.WebServer.SendAsync(Request(2, Environ("/hello"), []));
        await first.WebServer.ExpectHelloAsync(2);
        Assert.False(second.Accepted.IsCompleted);
        Assert.Empty(second.WebServer.TakeAvailableRecords());

        await first.WebServer.CloseAsync();
        await first.Closed.Within("the first connection to close");
        await second.Accepted.Within("the host to accept the second connection");
        await second.WebServer.ExpectHelloAsync(1);
    }

    [Theory]
    [InlineData(ThreadingLevel.PerConnection)]
    [InlineData(ThreadingLevel.Multiplexed)]
    public async Task Levels_1_and_2_serve_another_connection_while_a_request_is_in_flight(ThreadingLevel level)
    {
        var app = new TestApp();
        await using var server = new InMemoryServer(app.Handlers, Options(level));
        await using var first = server.Connect();
        await using var second = server.Connect();
        await first.WebServer.SendAsync(Request(1, Environ("/wait?a"), []));
        await app["a"].Entered.Within("request a to reach its gate");
        await second.WebServer.SendAsync(Request(1, Environ("/hello"), []));
        await second.WebServer.ExpectHelloAsync(1);

        // A second request on the busy connection: level 1 refuses it (FCGI_CANT_MPX_CONN, spec 5.5), level 2 runs it.
        await first.WebServer.SendAsync(Request(2, Environ("/hello"), []));
        if (level == ThreadingLevel.PerConnection)
        {
            await first.WebServer.ExpectEndRequestAsync(2, protocolStatus: 1);
        }
        else
        {
            await first.WebServer.ExpectHelloAsync(2);
        }

        Assert.False(app["a"].Left.IsCompleted);
        app["a"].Open();
        await first.WebServer.ExpectWaitedAsync(1, "a");
    }

    [Theory]
    [InlineData(ThreadingLevel.Sequential, "1", "1", "0")]
    [InlineData(ThreadingLevel.PerConnection, "100", "50", "0")]
    [InlineData(ThreadingLevel.Multiplexed, "100", "50", "1")]
    public async Task Get_values_answers_the_limits_of_the_level(ThreadingLevel level, string maxConns, string maxReqs, string mpxsConns)
    {
        await using var server = new InMemoryServer(new TestApp().Handlers, Options(level));
        await using var connection = server.Connect();
        await connection.WebServer.SendAsync(Record(GetValues, 0, NameValues([new("FCGI_MAX_CONNS", ""), new("FCGI_MAX_REQS", ""), new("FCGI_MPXS_CONNS", "")])));
        await connection.WebServer.ExpectAsync(GetValuesResult, 0, NameValues([new("FCGI_MAX_CONNS", maxConns), new("FCGI_MAX_REQS", maxReqs), new("FCGI_MPXS_CONNS", mpxsConns)]));
    }

    private static FastCgiServerOptions Options(ThreadingLevel level) => new()
    {
        ThreadingLevel = level,
        Limits = FastCgiServerLimits.Default with { MaxConnections = 100, MaxConcurrentRequests = 50 },
    };
}
