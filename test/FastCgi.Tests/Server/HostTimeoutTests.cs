using System.IO.Pipelines;
using FastCgi.Server;
using FastCgi.Tests.Connection;
using FastCgi.Tests.Support;
using Xunit;
using static FastCgi.Testing.CgiVariables;
using static FastCgi.Testing.FcgiRecords;

namespace FastCgi.Tests.Server;

/// <summary>
/// The per-connection timeouts through the host's once-a-second check on its clock: a connection that stalls its
/// input or stops reading is closed after its timeout, and only that one; the other connections of the host go on.
/// </summary>
public sealed class HostTimeoutTests
{
    [Fact]
    public async Task A_stalled_connection_is_closed_after_the_input_timeout_and_the_others_are_not()
    {
        var log = new CapturingLoggerFactory();
        await using var server = new InMemoryServer(new TestApp().Handlers, Options() with { LoggerFactory = log });
        await using var stalled = server.Connect();
        await using var kept = server.Connect();
        await kept.WebServer.SendAsync(Request(1, Environ("/hello"), []));
        await kept.WebServer.ExpectHelloAsync(1);
        await stalled.WebServer.SendAsync([.. Begin(1), .. Record(Params, 1, NameValues(Environ("/hello")).AsSpan(0, 10))]);
        await stalled.WebServer.SyncAsync();

        server.AdvanceTime(TimeSpan.FromSeconds(10));
        Assert.False(stalled.Closed.IsCompleted, $"The stalled connection closed before its input timeout passed. The log:\n{log}");
        server.AdvanceTime(TimeSpan.FromSeconds(1));
        await stalled.WebServer.ExpectClosedAsync();
        await stalled.Closed.Within("the stalled connection to close");
        await log.LineAsync("Connection 1 closed: timed out: request 1 did not finish its PARAMS");

        // The kept connection was idle as long: an idle connection has no input timeout.
        await kept.WebServer.SendAsync(Request(2, Environ("/hello"), []));
        await kept.WebServer.ExpectHelloAsync(2);
    }

    [Fact]
    public async Task A_web_server_that_stops_reading_is_cut_off_by_the_write_timeout_and_the_others_are_served()
    {
        var app = new TestApp();
        var log = new CapturingLoggerFactory();
        await using var server = new InMemoryServer(app.Handlers, Options() with { LoggerFactory = log });
        var output = new PipeOptions(pauseWriterThreshold: 64 * 1024, resumeWriterThreshold: 32 * 1024);
        await using var stopped = server.Connect(outputOptions: output, webServerReads: false);
        await using var reading = server.Connect();
        await reading.WebServer.SendAsync(Request(1, Environ("/hello"), []));
        await reading.WebServer.ExpectHelloAsync(1);
        await stopped.WebServer.SendAsync(Request(1, Environ($"/big?{1 << 30}"), []));

        // The web server reads nothing, so the held write makes no more progress: the timeout runs from its start. (A
        // web server that had read some could take more after it, and the write going on is progress: the clock restarts.)
        await app.WriteHeld.Within("a write of /big to wait for the web server");

        server.AdvanceTime(TimeSpan.FromSeconds(20));
        Assert.False(stopped.Closed.IsCompleted, $"The connection closed before its write timeout passed. The log:\n{log}");
        server.AdvanceTime(TimeSpan.FromSeconds(1));
        await stopped.Closed.Within("the connection that stopped reading to close");
        await log.LineAsync("Connection 1 closed: timed out: the web server stopped reading the response");

        // What was in flight may be lost with the connection; the response never comes whole.
        Assert.InRange(await stopped.WebServer.ReadToEndAsync(limit: 1 << 20), 0, 1 << 20);

        await reading.WebServer.SendAsync(Request(2, Environ("/hello"), []));
        await reading.WebServer.ExpectHelloAsync(2);
    }

    private static FastCgiServerOptions Options() => new()
    {
        Limits = FastCgiServerLimits.Default with { InputTimeout = TimeSpan.FromSeconds(10), WriteTimeout = TimeSpan.FromSeconds(20) },
    };
}
