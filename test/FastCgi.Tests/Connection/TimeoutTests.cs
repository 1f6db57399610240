using FastCgi.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using Xunit;
using static FastCgi.Testing.CgiVariables;
using static FastCgi.Testing.FcgiRecords;
using FastCgi.Server;

namespace FastCgi.Tests.Connection;

/// <summary>
/// The input timeout on a fake clock: the host's once-a-second check runs when the test moves time on, so nothing
/// waits in real time.
/// </summary>
public sealed class TimeoutTests
{
    private static readonly byte[] AskMaxConns = Record(GetValues, 0, NameValues([new("FCGI_MAX_CONNS", "")]));

    [Fact]
    public async Task A_stalled_PARAMS_stream_closes_the_connection_after_the_input_timeout()
    {
        var time = new FakeTimeProvider();
        await using var connection = new InMemoryConnection(() => new Hello(), Options(time));
        await connection.WebServer.SendAsync([.. Begin(1), .. Record(Params, 1, NameValues([new("REQUEST_METHOD", "GET")])), .. AskMaxConns]);

        // The answer to GET_VALUES comes after the read loop took BEGIN_REQUEST and the PARAMS record.
        Assert.Equal(GetValuesResult, (await connection.WebServer.ReadRecordAsync())!.Type);
        time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(connection.Run.IsCompleted);

        time.Advance(TimeSpan.FromSeconds(2));
        await connection.Run.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task An_idle_kept_connection_is_never_timed_out()
    {
        var time = new FakeTimeProvider();
        await using var connection = new InMemoryConnection(() => new Hello(), Options(time));
        await connection.WebServer.SendAsync(Request(1, Environ("/hello")));
        await connection.WebServer.ReadResponseAsync(1);

        time.Advance(TimeSpan.FromHours(1));
        await connection.WebServer.SendAsync(Request(2, Environ("/hello")));
        Assert.EndsWith("hi", (await connection.WebServer.ReadResponseAsync(2)).Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_connection_that_sends_no_request_is_closed_after_the_input_timeout()
    {
        var time = new FakeTimeProvider();
        await using var connection = new InMemoryConnection(() => new Hello(), Options(time));

        // GET_VALUES is no request: once it is answered, the connection exists and its clock runs.
        await connection.WebServer.SendAsync(AskMaxConns);
        await connection.WebServer.ReadRecordAsync();
        time.Advance(TimeSpan.FromSeconds(31));
        await connection.Run.WaitAsync(TimeSpan.FromSeconds(10));
    }

    private static FastCgiServerOptions Options(TimeProvider time) => new()
    {
        TimeProvider = time,
        Limits = FastCgiServerLimits.Default with { InputTimeout = TimeSpan.FromSeconds(30) },
    };

    private sealed class Hello : Handler
    {
        public override void Process(Request request) => request.Write("hi");
    }
}
