using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using FastCgi.IntegrationTests.Support;
using FastCgi.Testing;
using Xunit;
using static FastCgi.Testing.CgiVariables;
using static FastCgi.Testing.FcgiRecords;

namespace FastCgi.IntegrationTests.Hostile;

/// <summary>
/// What a client does with its own connections or its own handler's thread must not keep the echo sample from
/// serving anyone else: idle connections by the thousand, handlers that block their thread. They measure the
/// server's wall time, so they run alone: other tests' load on two cores would measure the test runner instead.
/// </summary>
[Collection(nameof(RunsAlone))]
public sealed class SchedulingTests
{
    [Fact]
    public async Task A_new_connection_is_served_within_1_s_while_10000_idle_connections_are_open()
    {
        const int Idle = 10_000;
        var descriptors = EchoServer.OpenFileLimitOf("self");
        Assert.True(descriptors > Idle + 1000, $"The test process may open {descriptors} files; it needs {Idle + 1000} (ulimit -n).");
        await using var server = await EchoServer.StartAsync();
        Assert.True(server.OpenFileLimit() > Idle + 1000, $"The echo sample may open {server.OpenFileLimit()} files; it needs {Idle + 1000} (ulimit -n).");
        var rssBefore = server.RssBytes();
        var fdsBefore = server.OpenFileDescriptors();
        var idle = new List<Socket>(Idle);
        try
        {
            // Connections that never send a byte. A Unix socket's connect fails with EAGAIN while the listen backlog
            // is full; a server that stopped accepting leaves it full, so stop opening after a second without room.
            var stalledSince = Stopwatch.StartNew();
            while (idle.Count < Idle && stalledSince.ElapsedMilliseconds < 1000)
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(server.EndPoint);
                    idle.Add(socket);
                    stalledSince.Restart();
                }
                catch (SocketException exception) when (exception.SocketErrorCode == SocketError.WouldBlock)
                {
                    socket.Dispose();
                    await Task.Delay(10);
                }
            }

            var accepted = await WaitForAsync(() => server.OpenFileDescriptors() - fdsBefore, n => n >= Idle, TimeSpan.FromSeconds(10));

            var served = Stopwatch.StartNew();
            FcgiTestClient? client = null;
            while (client is null && served.ElapsedMilliseconds < 1000)
            {
                try
                {
                    client = await server.ConnectAsync();
                }
                catch (SocketException exception) when (exception.SocketErrorCode == SocketError.WouldBlock)
                {
                    await Task.Delay(10);
                }
            }

            Assert.True(client is not null, $"Could not even connect within 1 s with {idle.Count} idle connections open, {accepted} accepted.");
            await using var connected = client;
            await client.SendAsync(Request(1, Environ("/hello"), []));
            FcgiResponse? response = null;
            try
            {
                response = await client.ReadResponseAsync(1, TimeSpan.FromSeconds(1) - served.Elapsed);
            }
            catch (OperationCanceledException)
            {
                // Not served in time: reported below with the counts.
            }

            Assert.True(
                response?.BodyText == "Hello, world!\n",
                $"Not served within 1 s ({served.ElapsedMilliseconds} ms) with {idle.Count} idle connections open, {accepted} accepted.");
            Assert.Equal(Idle, idle.Count);

            var growth = server.RssBytes() - rssBefore;
            TestContext.Current.TestOutputHelper?.WriteLine($"served in {served.ElapsedMilliseconds} ms; RSS +{growth >> 20} MB for {Idle} idle connections");
            Assert.True(growth < 100L * 1024 * 1024, $"RSS grew by {growth >> 20} MB for {Idle} idle connections.");

            // GET_VALUES tells the truth: the server holds every one of these connections at once.
            await client.SendAsync(Record(GetValues, 0, NameValues([new("FCGI_MAX_CONNS", ""), new("FCGI_MAX_REQS", "")])));
            var values = ParsePairs((await client.ReadRecordAsync())!.Content);
            Assert.True(int.Parse(values["FCGI_MAX_CONNS"], System.Globalization.CultureInfo.InvariantCulture) > Idle, $"FCGI_MAX_CONNS is {values["FCGI_MAX_CONNS"]}");
            Assert.Equal("1024", values["FCGI_MAX_REQS"]);
        }
        finally
        {
            foreach (var socket in idle)
            {
                socket.Dispose();
            }
        }
    }

    [Fact]
    public async Task Forty_blocking_requests_take_1_s_and_hello_is_answered_within_100_ms_meanwhile()
    {
        await using var server = await EchoServer.StartAsync();
        var blocked = new List<FcgiTestClient>();
        await using var other = await server.ConnectAsync();
        try
        {
            for (var i = 0; i < 40; i++)
            {
                blocked.Add(await server.ConnectAsync());
            }

            var wall = Stopwatch.StartNew();
            var responses = Task.WhenAll(blocked.Select(async client =>
            {
                await client.SendAsync(Request(1, Environ("/block?ms=1000"), []));
                return await client.ReadResponseAsync(1, TimeSpan.FromSeconds(10));
            }));

            // Hello on another connection, every 50 ms while the forty are blocked.
            var slowest = 0L;
            for (ushort id = 1; !responses.IsCompleted; id++)
            {
                var hello = Stopwatch.StartNew();
                Assert.Equal("Hello, world!\n", (await other.RequestAsync(id, Environ("/hello"))).BodyText);
                slowest = Math.Max(slowest, hello.ElapsedMilliseconds);
                await Task.WhenAny(responses, Task.Delay(50));
            }

            var all = await responses;
            var elapsed = wall.ElapsedMilliseconds;
            TestContext.Current.TestOutputHelper?.WriteLine($"forty blocking requests: {elapsed} ms; slowest hello {slowest} ms");
            Assert.All(all, response => Assert.Equal("blocked 1000\n", response.BodyText));
            Assert.True(elapsed < 1500, $"Forty requests blocking 1 s each took {elapsed} ms.");
            Assert.True(slowest < 100, $"A hello took {slowest} ms while they were blocked.");
        }
        finally
        {
            foreach (var client in blocked)
            {
                await client.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// Multiplexed requests run right after the read that completed them, on the thread that read it: a blocking one
    /// must not hold up the others on its connection, nor new ones arriving on it (jonpy's threading level 2: a
    /// thread per request). Each round blocks anew, also once the server has learnt that this application blocks.
    /// </summary>
    [Fact]
    public async Task At_level_2_a_blocking_request_holds_up_no_other_request_on_its_connection()
    {
        await using var server = await EchoServer.StartAsync(["--threading-level", "2"]);
        await using var client = await server.ConnectAsync();
        ushort id = 0;
        for (var round = 0; round < 3; round++)
        {
            var blocking = ++id;
            var hello = ++id;
            var wall = Stopwatch.StartNew();

            // In one write, so that both requests are complete in the same read.
            await client.SendAsync([.. Request(blocking, Environ("/block?ms=1000"), []), .. Request(hello, Environ("/hello"), [])]);
            Assert.Equal("Hello, world!\n", (await client.ReadResponseAsync(hello, TimeSpan.FromSeconds(5))).BodyText);
            var helloMs = wall.ElapsedMilliseconds;
            var later = ++id;
            Assert.Equal("Hello, world!\n", (await client.RequestAsync(later, Environ("/hello"))).BodyText);
            var laterMs = wall.ElapsedMilliseconds;
            Assert.Equal("blocked 1000\n", (await client.ReadResponseAsync(blocking, TimeSpan.FromSeconds(5))).BodyText);
            TestContext.Current.TestOutputHelper?.WriteLine($"round {round}: hello beside the block after {helloMs} ms, the next after {laterMs} ms");
            Assert.True(helloMs < 200, $"Round {round}: the hello sent with a blocking request took {helloMs} ms.");
            Assert.True(laterMs < 400, $"Round {round}: a hello sent while a request blocked took until {laterMs} ms.");
        }
    }

    private static async Task<int> WaitForAsync(Func<int> count, Func<int, bool> done, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var value = count();
            if (done(value) || deadline.Elapsed > timeout)
            {
                return value;
            }

            await Task.Delay(25);
        }
    }

    private static Dictionary<string, string> ParsePairs(byte[] content)
    {
        var pairs = new Dictionary<string, string>();
        for (var at = 0; at < content.Length;)
        {
            var nameLength = ReadLength(content, ref at);
            var valueLength = ReadLength(content, ref at);
            pairs[Encoding.UTF8.GetString(content, at, nameLength)] = Encoding.UTF8.GetString(content, at + nameLength, valueLength);
            at += nameLength + valueLength;
        }

        return pairs;
    }

    private static int ReadLength(byte[] content, ref int at)
    {
        if (content[at] < 0x80)
        {
            return content[at++];
        }

        var length = ((content[at] & 0x7F) << 24) | (content[at + 1] << 16) | (content[at + 2] << 8) | content[at + 3];
        at += 4;
        return length;
    }
}
