using System.Text;
using FastCgi.Server;
using FastCgi.Testing;
using FastCgi.Tests.Support;
using Xunit;
using static FastCgi.Testing.CgiVariables;
using static FastCgi.Testing.FcgiRecords;

namespace FastCgi.Tests.Connection;

/// <summary>
/// The input streams as the handler reads them: an empty STDIN (every GET) ends without its pipe, and a body that
/// follows on the same connection, so on the same reused request context, still comes whole; records of
/// interleaved requests each reach their own request.
/// </summary>
public sealed class InputStreamTests
{
    private static readonly byte[] Body = [.. Enumerable.Range(0, 150_000).Select(i => (byte)('a' + (i % 26)))];

    [Fact]
    public async Task A_handler_that_reads_an_empty_STDIN_gets_the_end_at_once()
    {
        await using var connection = new InMemoryConnection(() => new BodyEcho());
        await connection.WebServer.SendAsync(Request(1, Environ("/get"), []));
        Assert.Equal("0:", (await connection.WebServer.ReadResponseAsync(1)).BodyText);
    }

    [Fact]
    public async Task Bodies_and_empty_STDINs_take_turns_on_one_kept_connection_and_each_comes_whole()
    {
        await using var connection = new InMemoryConnection(() => new BodyEcho());
        var text = Encoding.ASCII.GetString(Body);
        for (ushort id = 1; id <= 6; id++)
        {
            var withBody = id % 2 == 0;
            await connection.WebServer.SendAsync(Request(id, Environ("/echo", withBody ? "POST" : "GET"), withBody ? Body : []));
            var expected = withBody ? $"{Body.Length}:{text}" : "0:";
            Assert.Equal(expected, (await connection.WebServer.ReadResponseAsync(id)).BodyText);
        }
    }

    [Fact]
    public async Task An_empty_STDIN_that_comes_after_the_handler_started_ends_the_read_it_waits_in()
    {
        var reading = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var connection = new InMemoryConnection(() => new BodyEcho(reading));

        // PARAMS end in this read, STDIN does not: the handler starts and reads the body through its pipe.
        await connection.WebServer.SendAsync([.. Begin(1), .. FcgiRecords.Stream(Params, 1, NameValues(Environ("/late", "POST")))]);
        await reading.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await connection.WebServer.SendAsync(Record(Stdin, 1, []));
        Assert.Equal("0:", (await connection.WebServer.ReadResponseAsync(1)).BodyText);

        // The context's pipe was used and ended: the next body still goes through it whole.
        await connection.WebServer.SendAsync(Request(2, Environ("/echo", "POST"), Body));
        Assert.Equal($"{Body.Length}:{Encoding.ASCII.GetString(Body)}", (await connection.WebServer.ReadResponseAsync(2)).BodyText);
    }

    [Fact]
    public async Task Interleaved_STDIN_records_of_multiplexed_requests_each_reach_their_own_request()
    {
        var options = new FastCgiServerOptions { ThreadingLevel = ThreadingLevel.Multiplexed };
        await using var connection = new InMemoryConnection(() => new BodyEcho(), options);
        var records = new MemoryStream();
        for (ushort id = 1; id <= 3; id++)
        {
            records.Write(Begin(id));
            records.Write(FcgiRecords.Stream(Params, id, NameValues(Environ("/echo", "POST"))));
        }

        // Each record of a request follows one of another request, and id 2's body ends empty in the middle.
        records.Write(Record(Stdin, 2, []));
        for (var part = 0; part < 3; part++)
        {
            records.Write(Record(Stdin, 1, Encoding.ASCII.GetBytes($"one{part}|")));
            records.Write(Record(Stdin, 3, Encoding.ASCII.GetBytes($"three{part}|")));
        }

        records.Write(Record(Stdin, 3, []));
        records.Write(Record(Stdin, 1, []));
        await connection.WebServer.SendAsync(records.ToArray());

        Assert.Equal("15:one0|one1|one2|", (await connection.WebServer.ReadResponseAsync(1)).BodyText);
        Assert.Equal("0:", (await connection.WebServer.ReadResponseAsync(2)).BodyText);
        Assert.Equal("21:three0|three1|three2|", (await connection.WebServer.ReadResponseAsync(3)).BodyText);
    }

    [Fact]
    public async Task Records_of_an_ended_request_are_ignored_and_a_new_request_with_its_id_gets_its_own_body()
    {
        await using var connection = new InMemoryConnection(() => new BodyEcho());

        // Empty STDIN, answered; then the web server sends STDIN for the id that is no longer active (spec 3.3).
        await connection.WebServer.SendAsync(Request(1, Environ("/get"), []));
        Assert.Equal("0:", (await connection.WebServer.ReadResponseAsync(1)).BodyText);
        await connection.WebServer.SendAsync([.. Record(Stdin, 1, "stale"u8), .. Record(Stdin, 1, []), .. Request(1, Environ("/echo", "POST"), "fresh"u8.ToArray())]);
        Assert.Equal("5:fresh", (await connection.WebServer.ReadResponseAsync(1)).BodyText);
    }

    /// <summary>Reads the whole body (telling <paramref name="reading"/> first), then answers with its length and bytes.</summary>
    private sealed class BodyEcho(TaskCompletionSource? reading = null) : Handler
    {
        public override async ValueTask ProcessAsync(Request request, CancellationToken cancellationToken)
        {
            reading?.TrySetResult();
            var body = new MemoryStream();
            await request.Body.CopyToAsync(body, cancellationToken);
            request.Write(Encoding.ASCII.GetBytes($"{body.Length}:"));
            request.Write(body.ToArray());
        }
    }
}
