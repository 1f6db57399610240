using FastCgi.Server;
using FastCgi.Tests.Connection;
using FastCgi.Tests.Support;
using Xunit;
using static FastCgi.Testing.CgiVariables;
using static FastCgi.Testing.FcgiRecords;

namespace FastCgi.Tests.Server;

/// <summary>
/// The request slots every connection of a host shares: FCGI_MAX_REQS across connections (FCGI_OVERLOADED past
/// it), and jonpy's <c>max_requests</c> (the host stops after that many requests began and lets them finish).
/// </summary>
public sealed class AdmissionTests
{
    [Fact]
    public async Task Past_max_concurrent_requests_a_request_on_any_connection_gets_overloaded_until_one_ends()
    {
        var app = new TestApp();
        var options = new FastCgiServerOptions { Limits = FastCgiServerLimits.Default with { MaxConcurrentRequests = 2 } };
        await using var server = new InMemoryServer(app.Handlers, options);
        await using var first = server.Connect();
        await using var second = server.Connect();
        await using var third = server.Connect();
        await first.WebServer.SendAsync(Request(1, Environ("/wait?a"), []));
        await second.WebServer.SendAsync(Request(1, Environ("/wait?b"), []));
        await Task.WhenAll(app["a"].Entered, app["b"].Entered).Within("two requests to reach their gates");

        // Refused at BEGIN_REQUEST: END_REQUEST with FCGI_OVERLOADED and nothing else; what follows of it is ignored.
        await third.WebServer.SendAsync(Request(1, Environ("/hello"), []));
        await third.WebServer.ExpectOverloadedAsync(1);

        app["a"].Open();
        await first.WebServer.ExpectWaitedAsync(1, "a");
        await third.WebServer.SendAsync(Request(2, Environ("/hello"), []));
        await third.WebServer.ExpectHelloAsync(2);
        await third.WebServer.SendAsync(Request(3, Environ("/wait?c"), []));
        await app["c"].Entered.Within("request c to reach its gate");
        await first.WebServer.SendAsync(Request(2, Environ("/hello"), []));
        await first.WebServer.ExpectOverloadedAsync(2);

        app["b"].Open();
        app["c"].Open();
        await second.WebServer.ExpectWaitedAsync(1, "b");
        await third.WebServer.ExpectWaitedAsync(3, "c");
    }

    [Theory]
    [InlineData(ThreadingLevel.PerConnection)]
    [InlineData(ThreadingLevel.Multiplexed)]
    public async Task Max_requests_stops_the_host_after_that_many_began_and_lets_them_finish(ThreadingLevel level)
    {
        var app = new TestApp();
        await using var server = new InMemoryServer(app.Handlers, new FastCgiServerOptions { ThreadingLevel = level, MaxRequests = 3 });
        await using var first = server.Connect();
        await using var second = server.Connect();
        await first.WebServer.SendAsync(Request(1, Environ("/hello"), []));
        await first.WebServer.ExpectHelloAsync(1);
        await first.WebServer.SendAsync(Request(2, Environ("/wait?a"), []));
        await second.WebServer.SendAsync(Request(1, Environ("/wait?b"), []));
        await Task.WhenAll(app["a"].Entered, app["b"].Entered).Within("requests 2 and 3 to reach their gates");

        // The third request to begin stopped the host: it accepts nothing more and admits no request...
        await server.Listener.Stopped.Within("the host to stop accepting");
        Assert.Throws<InvalidOperationException>(() => server.Connect());
        if (level == ThreadingLevel.Multiplexed)
        {
            await first.WebServer.SendAsync(Request(3, Environ("/hello"), []));
            await first.WebServer.ExpectOverloadedAsync(3);
        }

        // ...but the requests it began finish, each with its END_REQUEST, and then it returns.
        Assert.False(server.Run.IsCompleted);
        app["a"].Open();
        await first.WebServer.ExpectWaitedAsync(2, "a");
        await first.WebServer.ExpectClosedAsync();
        Assert.False(server.Run.IsCompleted);
        app["b"].Open();
        await second.WebServer.ExpectWaitedAsync(1, "b");
        await second.WebServer.ExpectClosedAsync();
        await server.Run.Within("the host to return after max_requests");
    }
}
