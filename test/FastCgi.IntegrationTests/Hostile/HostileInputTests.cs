using System.Net.Sockets;
using System.Text;
using FastCgi.IntegrationTests.Support;
using FastCgi.Testing;
using Xunit;
using static FastCgi.Testing.CgiVariables;
using static FastCgi.Testing.FcgiRecords;

namespace FastCgi.IntegrationTests.Hostile;

/// <summary>
/// Malformed and hostile input over real sockets to the echo sample: each ends in the exact outcome named by the
/// issue, after which a good request on a new connection is still served and memory stayed bounded.
/// </summary>
public sealed class HostileInputTests
{
    private const long MemoryBound = 150L * 1024 * 1024;

    public static TheoryData<string, byte[]> ConnectionKillers => [.. ProtocolViolations()];

    [Theory]
    [MemberData(nameof(ConnectionKillers))]
    public async Task A_protocol_violation_closes_only_that_connection(string what, byte[] bytes)
    {
        await using var server = await EchoServer.StartAsync(["--threading-level", "2"]);
        await using var bystander = await server.ConnectAsync();
        await bystander.SendAsync(Request(1, Environ("/slow?ms=500"), []));
        await using (var attacker = await server.ConnectAsync())
        {
            await attacker.SendAsync(bytes);
            Assert.True(await attacker.IsClosedAsync(TimeSpan.FromSeconds(5)), what);
        }

        // With no logger set, the warning goes to standard error: the operator's log.
        var warning = await server.WaitForOutputLineAsync(line => line.Contains(" closed: protocol error ", StringComparison.Ordinal), TimeSpan.FromSeconds(10));
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z warning FastCgi\.Connection: Connection \d+ closed: protocol error \w+: .+$", warning);

        Assert.Equal("slept 500\n", (await bystander.ReadResponseAsync(1)).BodyText);
        await AssertStillServesAsync(server);
    }

    [Fact]
    public async Task At_max_connections_a_new_connection_closes_the_one_idle_longest()
    {
        await using var server = await EchoServer.StartAsync(["--max-connections", "2"]);

        await WaitUntilProbeClosedAsync(server);
        await using var silent = await server.ConnectAsync();
        await using var kept = await server.ConnectAsync();
        Assert.Equal("Hello, world!\n", (await kept.RequestAsync(1, Environ("/hello"))).BodyText);
        await using var third = await server.ConnectAsync();
        Assert.Equal("Hello, world!\n", (await third.RequestAsync(1, Environ("/hello"))).BodyText);
        Assert.True(await silent.IsClosedAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal("Hello, world!\n", (await kept.RequestAsync(2, Environ("/hello"))).BodyText);
    }

    [Fact]
    public async Task At_max_connections_with_every_request_in_flight_a_new_connection_waits_for_one_to_close()
    {
        await using var server = await EchoServer.StartAsync(["--max-connections", "2"]);
        await WaitUntilProbeClosedAsync(server);
        await using var first = await server.ConnectAsync();
        await using var second = await server.ConnectAsync();
        foreach (var (client, uri) in new[] { (first, "/slow?ms=1500"), (second, "/slow?ms=600000") })
        {
            // The answer to GET_VALUES sent after the request shows that the request has begun.
            await client.SendAsync([.. Request(1, Environ(uri), []), .. Record(GetValues, 0, [])]);
            Assert.Equal(GetValuesResult, (await client.ReadRecordAsync())!.Type);
        }

        await using var third = await server.ConnectAsync();
        await third.SendAsync(Request(1, Environ("/hello"), []));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => third.ReadResponseAsync(1, TimeSpan.FromMilliseconds(500)));
        Assert.Equal("slept 1500\n", (await first.ReadResponseAsync(1)).BodyText);
        await first.DisposeAsync();
        Assert.Equal("Hello, world!\n", (await third.ReadResponseAsync(1)).BodyText);
    }

    [Fact]
    public async Task A_handler_that_never_returns_holds_only_its_own_request()
    {
        await using var server = await EchoServer.StartAsync(["--threading-level", "2"]);
        await using var client = await server.ConnectAsync();
        await client.SendAsync(Request(1, Environ("/slow?ms=600000"), []));
        for (ushort id = 2; id < 12; id++)
        {
            Assert.Equal("Hello, world!\n", (await client.RequestAsync(id, Environ("/hello"))).BodyText);
        }

        await using var other = await server.ConnectAsync();
        Assert.Equal("Hello, world!\n", (await other.RequestAsync(1, Environ("/hello"))).BodyText);
    }

    [Fact]
    public async Task Truncated_header_and_record_then_hang_up()
    {
        await using var server = await EchoServer.StartAsync();
        foreach (var partial in new[] { Begin(1)[..5], Request(1, Environ("/hello"))[..20] })
        {
            await using var client = await server.ConnectAsync();
            await client.SendAsync(partial);
        }

        await AssertStillServesAsync(server);
    }

    [Fact]
    public async Task Params_before_begin_request_are_ignored()
    {
        await using var server = await EchoServer.StartAsync();
        await using var client = await server.ConnectAsync();
        await client.SendAsync([.. FcgiRecords.Stream(Params, 1, NameValues(Environ("/hello"))), .. Record(Stdin, 1, [])]);
        Assert.Equal("Hello, world!\n", (await client.RequestAsync(1, Environ("/hello"))).BodyText);
    }

    [Theory]
    [InlineData(1, 1, 999)]
    [InlineData(2, 2, 744)]
    public async Task A_thousand_begin_requests_on_one_connection(int level, byte refusal, int refused)
    {
        await using var server = await EchoServer.StartAsync(["--threading-level", level.ToString(System.Globalization.CultureInfo.InvariantCulture), "--input-timeout", "3"]);
        await using var client = await server.ConnectAsync();
        var all = new MemoryStream();
        for (ushort id = 1; id <= 1000; id++)
        {
            all.Write(Begin(id));
        }

        await client.SendAsync(all.ToArray());
        var count = 0;
        while (count < refused && await client.ReadRecordAsync() is { } record)
        {
            Assert.Equal(EndRequest, record.Type);
            Assert.Equal(refusal, record.Content[4]);
            count++;
        }

        Assert.Equal(refused, count);

        // The accepted requests never send PARAMS: the input timeout closes the connection.
        Assert.True(await client.IsClosedAsync(TimeSpan.FromSeconds(10)));
        await AssertStillServesAsync(server);
    }

    [Fact]
    public async Task Ten_thousand_connections_opened_and_dropped_leak_nothing()
    {
        await using var server = await EchoServer.StartAsync();
        await AssertStillServesAsync(server);
        var descriptors = server.LeakableFileDescriptors();
        for (var i = 0; i < 10_000; i++)
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(server.EndPoint);
            }
            catch (SocketException exception) when (exception.SocketErrorCode == SocketError.WouldBlock)
            {
                // The listen backlog is full for a moment (EAGAIN on a Unix socket): let the server catch up.
                await Task.Delay(10);
            }
        }

        await AssertStillServesAsync(server);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (server.LeakableFileDescriptors() > descriptors + 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.InRange(server.LeakableFileDescriptors(), 0, descriptors + 2);
    }

    [Fact]
    public async Task A_connection_that_sends_nothing_is_closed_after_the_input_timeout()
    {
        await using var server = await EchoServer.StartAsync(["--input-timeout", "2"]);
        await using var idle = await server.ConnectAsync();
        Assert.True(await idle.IsClosedAsync(TimeSpan.FromSeconds(6)));
        await AssertStillServesAsync(server);
    }

    [Fact]
    public async Task An_idle_kept_connection_stays_open()
    {
        await using var server = await EchoServer.StartAsync(["--input-timeout", "1"]);
        await using var client = await server.ConnectAsync();
        Assert.Equal("Hello, world!\n", (await client.RequestAsync(1, Environ("/hello"))).BodyText);

        // A silent connection opened after the kept one went idle is cut by the input timeout: by then the kept one
        // has been idle longer than the timeout too.
        await using (var silent = await server.ConnectAsync())
        {
            Assert.True(await silent.IsClosedAsync(TimeSpan.FromSeconds(10)));
        }

        Assert.Equal("Hello, world!\n", (await client.RequestAsync(2, Environ("/hello"))).BodyText);
    }

    [Fact]
    public async Task A_slow_loris_params_stream_is_cut_off()
    {
        await using var server = await EchoServer.StartAsync(["--input-timeout", "2"]);
        await using var client = await server.ConnectAsync();
        await client.SendAsync(Begin(1));
        var closed = false;
        var started = DateTime.UtcNow;
        var bytes = NameValues(Environ("/hello"));
        for (var i = 0; i < bytes.Length && !closed && DateTime.UtcNow - started < TimeSpan.FromSeconds(10); i++)
        {
            try
            {
                await client.SendAsync(Record(Params, 1, bytes.AsSpan(i, 1)));
                await Task.Delay(200);
            }
            catch (IOException)
            {
                closed = true;
            }
        }

        Assert.True(closed || await client.IsClosedAsync(TimeSpan.FromSeconds(5)));
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(8));
        await AssertStillServesAsync(server);
    }

    [Fact]
    public async Task A_stalled_body_is_cut_off()
    {
        await using var server = await EchoServer.StartAsync(["--input-timeout", "2"]);
        await using var client = await server.ConnectAsync();
        await client.SendAsync([.. Begin(1), .. FcgiRecords.Stream(Params, 1, NameValues(Environ("/upload", "POST", "application/octet-stream", 100))), .. Record(Stdin, 1, new byte[10])]);
        var started = DateTime.UtcNow;
        Assert.True(await client.IsClosedAsync(TimeSpan.FromSeconds(8)));
        Assert.InRange((DateTime.UtcNow - started).TotalSeconds, 1, 6);
        await AssertStillServesAsync(server);
    }

    [Fact]
    public async Task A_web_server_that_stops_reading_a_1_GB_response_is_cut_off_by_the_write_timeout_with_flat_memory()
    {
        // Over TCP, so /proc/net/tcp shows when the application's end of this one connection goes.
        await using var server = await EchoServer.StartAsync(["--write-timeout", "1"], tcp: true);
        var port = ((System.Net.IPEndPoint)server.EndPoint).Port;
        await using var client = await server.ConnectAsync();
        Assert.Equal(1, await TcpConnections.WaitAsync(port, count => count == 1));
        var sent = System.Diagnostics.Stopwatch.GetTimestamp();
        await client.SendAsync(Request(1, Environ($"/big?bytes={1L << 30}"), []));

        // Nothing is read: the connection must be closed once the write has waited the write timeout (checked
        // about once a second), long before the application could have sent 1 GB.
        Assert.Equal(0, await TcpConnections.WaitAsync(port, count => count == 0, TimeSpan.FromSeconds(15)));
        Assert.InRange(System.Diagnostics.Stopwatch.GetElapsedTime(sent).TotalSeconds, 1, 10);
        Assert.True(server.RssBytes() < MemoryBound, $"RSS {server.RssBytes() >> 20} MB");

        // What the web server then gets is what was already in the socket buffers, and the end of the connection.
        Assert.InRange(await client.ReadToEndAsync(limit: 64L << 20), 0, 64L << 20);
        await AssertStillServesAsync(server);
    }

    [Fact]
    public async Task Params_over_the_byte_limit_close_the_connection()
    {
        await using var server = await EchoServer.StartAsync();
        await using var client = await server.ConnectAsync();
        var huge = NameValues([new("HTTP_X_PAD", new string('x', 1024 * 1024))]);
        await client.SendAsync([.. Begin(1), .. FcgiRecords.Stream(Params, 1, huge)]);
        Assert.True(await client.IsClosedAsync(TimeSpan.FromSeconds(5)));
        await AssertStillServesAsync(server);
    }

    [Fact]
    public async Task Params_over_the_count_limit_close_the_connection()
    {
        await using var server = await EchoServer.StartAsync();
        await using var client = await server.ConnectAsync();
        var many = NameValues(Enumerable.Range(0, 1001).Select(i => new KeyValuePair<string, string>($"HTTP_X_{i}", "v")));
        await client.SendAsync([.. Begin(1), .. FcgiRecords.Stream(Params, 1, many)]);
        Assert.True(await client.IsClosedAsync(TimeSpan.FromSeconds(5)));
        await AssertStillServesAsync(server);
    }

    [Fact]
    public async Task A_body_over_the_limit_is_413()
    {
        await using var server = await EchoServer.StartAsync(["--max-request-body-bytes", "1000"]);
        await using var client = await server.ConnectAsync();
        var ok = await client.RequestAsync(1, Environ("/upload", "POST", "application/octet-stream", 1000), new byte[1000]);
        Assert.StartsWith("{\"length\": 1000,", ok.BodyText, StringComparison.Ordinal);
        var over = await client.RequestAsync(2, Environ("/upload", "POST", "application/octet-stream", 1001), new byte[1001]);
        Assert.Equal("413 Content Too Large", over.Header("Status"));
        Assert.Contains("MaxRequestBodyBytes (1000 bytes)", over.Stderr, StringComparison.Ordinal);
        await AssertStillServesAsync(server);
    }

    [Fact]
    public async Task Form_fields_over_the_limit_are_413()
    {
        await using var server = await EchoServer.StartAsync();
        await using var client = await server.ConnectAsync();
        var body = Encoding.ASCII.GetBytes(string.Join('&', Enumerable.Range(0, 1025).Select(i => $"f{i}=1")));
        var response = await client.RequestAsync(1, Environ("/echo", "POST", "application/x-www-form-urlencoded", body.Length), body);
        Assert.Equal("413 Content Too Large", response.Header("Status"));
        await AssertStillServesAsync(server);
    }

    [Fact]
    public async Task Cookies_over_the_limit_are_431()
    {
        await using var server = await EchoServer.StartAsync();
        await using var client = await server.ConnectAsync();
        var cookies = string.Join("; ", Enumerable.Range(0, 101).Select(i => $"c{i}=v"));
        var response = await client.RequestAsync(1, Environ("/echo", extra: new Dictionary<string, string> { ["HTTP_COOKIE"] = cookies }));
        Assert.Equal("431 Request Header Fields Too Large", response.Header("Status"));
        Assert.DoesNotContain("c1=v", response.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_multipart_body_with_a_million_tiny_parts_is_413()
    {
        await using var server = await EchoServer.StartAsync();
        await using var client = await server.ConnectAsync();
        var part = "--b\r\nContent-Disposition: form-data; name=\"p\"\r\n\r\nx\r\n"u8.ToArray();
        var body = new MemoryStream();
        for (var i = 0; i < 1_000_000; i++)
        {
            body.Write(part);
        }

        body.Write("--b--\r\n"u8);
        var bytes = body.ToArray();
        await client.SendAsync([.. Begin(1), .. FcgiRecords.Stream(Params, 1, NameValues(Environ("/echo", "POST", "multipart/form-data; boundary=b", bytes.Length)))]);
        var sending = client.SendAsync(FcgiRecords.Stream(Stdin, 1, bytes));
        var response = await client.ReadResponseAsync(1);
        Assert.Equal("413 Content Too Large", response.Header("Status"));
        await sending;
        Assert.True(server.RssBytes() < MemoryBound, $"RSS {server.RssBytes() >> 20} MB");
        await AssertStillServesAsync(server);
    }

    [Fact]
    public async Task A_boundary_that_never_closes_is_400()
    {
        await using var server = await EchoServer.StartAsync();
        await using var client = await server.ConnectAsync();
        var body = Encoding.ASCII.GetBytes("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\n" + new string('z', 200_000));
        var response = await client.RequestAsync(1, Environ("/echo", "POST", "multipart/form-data; boundary=b", body.Length), body);
        Assert.Equal("400 Bad Request", response.Header("Status"));
        await AssertStillServesAsync(server);
    }

    [Fact]
    public async Task Sigterm_lets_requests_in_flight_finish_refuses_new_ones_and_exits_0()
    {
        await using var server = await EchoServer.StartAsync(["--threading-level", "2"]);
        await using var client = await server.ConnectAsync();

        // Request 1 stays in flight until the test sends the rest of its body: no race with the drain.
        var first = "first half "u8.ToArray();
        var second = "second half"u8.ToArray();
        await client.SendAsync([
            .. Begin(1),
            .. FcgiRecords.Stream(Params, 1, NameValues(Environ("/upload", "POST", "application/octet-stream", first.Length + second.Length))),
            .. FcgiRecords.Record(Stdin, 1, first)]);
        await client.SyncAsync();
        server.Signal(15);
        Assert.True(await server.WaitUntilNotListeningAsync(TimeSpan.FromSeconds(5)));
        await Assert.ThrowsAnyAsync<SocketException>(server.ConnectAsync);
        await client.SendAsync(Begin(2));
        Assert.Equal(2, (await client.ReadResponseAsync(2)).ProtocolStatus);
        await client.SendAsync(FcgiRecords.Stream(Stdin, 1, second));
        var sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData([.. first, .. second]));
        Assert.Equal($"{{\"length\": 22, \"sha256\": \"{sha256}\"}}", (await client.ReadResponseAsync(1)).BodyText);
        Assert.True(await server.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(0, server.ExitCode);
    }

    [Fact]
    public async Task Shutdown_timeout_aborts_what_is_left_and_still_ends_the_requests()
    {
        await using var server = await EchoServer.StartAsync(["--shutdown-timeout", "1"]);
        await using var client = await server.ConnectAsync();
        await client.SendAsync(Request(1, Environ("/slow?ms=60000"), []));
        await client.SyncAsync();
        server.Signal(2);
        var response = await client.ReadResponseAsync(1, TimeSpan.FromSeconds(5));
        Assert.Equal(0, response.ProtocolStatus);
        Assert.True(await server.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(0, server.ExitCode);
    }

    [Fact]
    public async Task Sighup_is_not_fatal()
    {
        await using var server = await EchoServer.StartAsync();
        server.Signal(1);
        await AssertStillServesAsync(server);

        // SIGHUP came first: had it been fatal, now or while SIGTERM drains, the process would not exit 0.
        server.Signal(15);
        Assert.True(await server.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(0, server.ExitCode);
    }

    /// <summary>Waits until the start-up probe's connection is gone, so that the next connections fill the limit.</summary>
    private static async Task WaitUntilProbeClosedAsync(EchoServer server)
    {
        for (var wait = System.Diagnostics.Stopwatch.StartNew(); server.AcceptedConnections() > 0 && wait.Elapsed < TimeSpan.FromSeconds(10);)
        {
            await Task.Delay(10);
        }

        Assert.Equal(0, server.AcceptedConnections());
    }

    private static async Task AssertStillServesAsync(EchoServer server)
    {
        await using var client = await server.ConnectAsync();
        var response = await client.RequestAsync(1, Environ("/hello"));
        Assert.Equal("Hello, world!\n", response.BodyText);
        Assert.True(server.RssBytes() < MemoryBound, $"RSS {server.RssBytes() >> 20} MB");
    }
}
