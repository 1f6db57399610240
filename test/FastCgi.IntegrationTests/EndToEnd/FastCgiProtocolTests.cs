using System.Text;
using FastCgi.IntegrationTests.Support;
using FastCgi.Testing;
using Xunit;
using static FastCgi.Testing.CgiVariables;
using static FastCgi.Testing.FcgiRecords;

namespace FastCgi.IntegrationTests.EndToEnd;

/// <summary>
/// Raw FastCGI against the echo sample started with its listening socket on fd 0 (spawn-fcgi), at each threading
/// level: each behaviour of the protocol checklist, asserted on exact records.
/// </summary>
public sealed class FastCgiProtocolTests
{
    public static TheoryData<int> Levels => [0, 1, 2];

    [Theory]
    [MemberData(nameof(Levels))]
    public async Task Hello_twice_on_one_kept_connection(int level)
    {
        await using var server = await StartAsync(level);
        await using var client = await server.ConnectAsync();
        for (ushort id = 1; id <= 2; id++)
        {
            var response = await client.RequestAsync(id, Environ("/hello"));
            Assert.Equal("Content-Type: text/plain\r\n\r\nHello, world!\n", response.Text);
            Assert.Equal(0, response.AppStatus);
            Assert.Equal(0, response.ProtocolStatus);
            Assert.Equal("", response.Stderr);
        }
    }

    [Theory]
    [MemberData(nameof(Levels))]
    public async Task Without_keep_conn_the_application_closes_the_connection(int level)
    {
        await using var server = await StartAsync(level);
        await using var client = await server.ConnectAsync();
        var response = await client.RequestAsync(1, Environ("/hello"), keepConnection: false);
        Assert.Equal("Hello, world!\n", response.BodyText);
        Assert.True(await client.IsClosedAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Without_keep_conn_input_sent_after_the_response_is_still_taken()
    {
        // Apache sends the empty STDIN in a write of its own, which can come after the response: closing with it
        // unread would reset the connection and the web server would lose the response.
        await using var server = await StartAsync(1);
        await using var client = await server.ConnectAsync();
        await client.SendAsync([.. Begin(1, keepConnection: false), .. FcgiRecords.Stream(Params, 1, NameValues(Environ("/status?code=201")))]);
        var response = await client.ReadResponseAsync(1);
        Assert.Equal("status 201\n", response.BodyText);
        await client.SendAsync(Record(Stdin, 1, []));
        await client.SendAsync(Record(Stdin, 1, []));
        Assert.True(await client.IsClosedAsync(TimeSpan.FromSeconds(5)));
    }

    [Theory]
    [InlineData(0, "1", "1", "0")]
    [InlineData(1, "16384", "1024", "0")]
    [InlineData(2, "16384", "1024", "1")]
    public async Task Get_values_answers_the_limits_enforced(int level, string maxConns, string maxReqs, string mpxs)
    {
        await using var server = await StartAsync(level);
        if (level > 0)
        {
            // Lowered to what the open-file limit leaves (256 kept for the rest).
            maxConns = Math.Min(int.Parse(maxConns, System.Globalization.CultureInfo.InvariantCulture), server.OpenFileLimit() - 256).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        await using var client = await server.ConnectAsync();
        await client.SendAsync(Record(GetValues, 0, NameValues([new("FCGI_MAX_CONNS", ""), new("FCGI_MAX_REQS", ""), new("FCGI_MPXS_CONNS", ""), new("X_UNKNOWN", "")])));
        var record = await client.ReadRecordAsync();
        Assert.NotNull(record);
        Assert.Equal(GetValuesResult, record.Type);
        Assert.Equal(0, record.RequestId);
        Assert.Equal(NameValues([new("FCGI_MAX_CONNS", maxConns), new("FCGI_MAX_REQS", maxReqs), new("FCGI_MPXS_CONNS", mpxs)]), record.Content);
        Assert.Equal(0, (record.Content.Length + record.Padding) % 8);
    }

    [Fact]
    public async Task Get_values_reports_the_overridden_limits()
    {
        await using var server = await StartAsync(1, "--max-connections", "7", "--max-concurrent-requests", "3");
        await using var client = await server.ConnectAsync();
        await client.SendAsync(Record(GetValues, 0, NameValues([new("FCGI_MAX_CONNS", ""), new("FCGI_MAX_REQS", "")])));
        var record = await client.ReadRecordAsync();
        Assert.Equal(NameValues([new("FCGI_MAX_CONNS", "7"), new("FCGI_MAX_REQS", "3")]), record!.Content);
    }

    [Theory]
    [MemberData(nameof(Levels))]
    public async Task Unknown_management_type_gets_unknown_type(int level)
    {
        await using var server = await StartAsync(level);
        await using var client = await server.ConnectAsync();
        await client.SendAsync(Record(99, 0, [1, 2, 3]));
        var record = await client.ReadRecordAsync();
        Assert.NotNull(record);
        Assert.Equal((1, UnknownType, 0, 0), (record.Version, record.Type, record.RequestId, record.Padding));
        Assert.Equal(new byte[] { 99, 0, 0, 0, 0, 0, 0, 0 }, record.Content);
        var response = await client.RequestAsync(1, Environ("/hello"));
        Assert.Equal("Hello, world!\n", response.BodyText);
    }

    [Theory]
    [MemberData(nameof(Levels))]
    public async Task Unknown_role_gets_unknown_role(int level)
    {
        await using var server = await StartAsync(level);
        await using var client = await server.ConnectAsync();
        await client.SendAsync(Begin(1, role: 7));
        var record = await client.ReadRecordAsync();
        Assert.Equal(EndRequest, record!.Type);
        Assert.Equal(new byte[] { 0, 0, 0, 0, 3, 0, 0, 0 }, record.Content);
        var response = await client.RequestAsync(2, Environ("/hello"));
        Assert.Equal("Hello, world!\n", response.BodyText);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public async Task Second_request_on_a_connection_gets_cant_mpx_conn(int level)
    {
        await using var server = await StartAsync(level);
        await using var client = await server.ConnectAsync();
        await client.SendAsync(Request(1, Environ("/slow?ms=300"), []));
        await client.SendAsync(Begin(2));
        var refused = await client.ReadResponseAsync(2);
        Assert.Equal(1, refused.ProtocolStatus);
        Assert.Empty(refused.Stdout);
        var first = await client.ReadResponseAsync(1);
        Assert.Equal("slept 300\n", first.BodyText);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Level_2_serves_100_interleaved_requests_on_one_connection(bool afterABlockingHandler)
    {
        await using var server = await StartAsync(2);
        await BlockOnceAsync(server, afterABlockingHandler);
        await using var client = await server.ConnectAsync();
        await client.SendAsync(Interleaved(100, id => Environ($"/echo?n={id}")));
        for (ushort id = 1; id <= 100; id++)
        {
            var response = await client.ReadResponseAsync(id);
            Assert.Equal(0, response.ProtocolStatus);
            Assert.Contains($"\"params\":{{\"n\":\"{id}\"}}", response.BodyText, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// A handler that blocks its thread for 100 ms: on Linux it stalls a loop thread of the epoll transport, which
    /// is replaced, and requests then run on the thread pool for a while. Both ways must behave the same.
    /// </summary>
    private static async Task BlockOnceAsync(EchoServer server, bool block)
    {
        if (block)
        {
            await using var client = await server.ConnectAsync();
            Assert.Equal("blocked 100\n", (await client.RequestAsync(1, Environ("/block?ms=100"))).BodyText);
        }
    }

    [Fact]
    public async Task Level_2_refuses_past_max_concurrent_requests_with_overloaded()
    {
        await using var server = await StartAsync(2, "--max-concurrent-requests", "2");
        await using var client = await server.ConnectAsync();
        await client.SendAsync(Request(1, Environ("/slow?ms=500"), []));
        await client.SendAsync(Request(2, Environ("/slow?ms=500"), []));
        await client.SendAsync(Begin(3));
        Assert.Equal(2, (await client.ReadResponseAsync(3)).ProtocolStatus);
        Assert.Equal("slept 500\n", (await client.ReadResponseAsync(1)).BodyText);
        Assert.Equal("slept 500\n", (await client.ReadResponseAsync(2)).BodyText);
        Assert.Equal("Hello, world!\n", (await client.RequestAsync(4, Environ("/hello"))).BodyText);
    }

    [Theory]
    [MemberData(nameof(Levels))]
    public async Task Records_for_unknown_request_ids_are_ignored(int level)
    {
        await using var server = await StartAsync(level);
        await using var client = await server.ConnectAsync();
        await client.SendAsync([.. Record(Stdin, 77, "junk"u8), .. Record(Params, 78, []), .. Record(AbortRequest, 79, []), .. Record(Data, 80, "x"u8)]);
        var response = await client.RequestAsync(1, Environ("/hello"));
        Assert.Equal("Hello, world!\n", response.BodyText);
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(1, true)]
    [InlineData(2, true)]
    public async Task Abort_during_slow_ends_the_request_within_a_second(int level, bool afterABlockingHandler)
    {
        await using var server = await StartAsync(level);
        await BlockOnceAsync(server, afterABlockingHandler);
        await using var client = await server.ConnectAsync();
        await client.SendAsync(Request(1, Environ("/slow?ms=60000"), []));
        await client.SyncAsync();
        var started = DateTime.UtcNow;
        await client.SendAsync(Record(AbortRequest, 1, []));
        var response = await client.ReadResponseAsync(1, TimeSpan.FromSeconds(1));
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(1));
        Assert.Equal(0, response.ProtocolStatus);
        Assert.Empty(response.Stdout);
        Assert.Equal("Hello, world!\n", (await client.RequestAsync(2, Environ("/hello"))).BodyText);
    }

    [Theory]
    [MemberData(nameof(Levels))]
    public async Task A_lost_connection_frees_the_server_for_others(int level)
    {
        await using var server = await StartAsync(level);
        await using (var client = await server.ConnectAsync())
        {
            await client.SendAsync(Request(1, Environ("/slow?ms=60000"), []));
            await client.SyncAsync();
        }

        // At level 0 the next connection is only accepted once the aborted request has ended.
        await using var next = await server.ConnectAsync();
        var response = await next.RequestAsync(1, Environ("/hello"), keepConnection: false);
        Assert.Equal("Hello, world!\n", response.BodyText);
    }

    [Theory]
    [MemberData(nameof(Levels))]
    public async Task Error_gives_500_and_the_message_on_stderr(int level)
    {
        await using var server = await StartAsync(level);
        await using var client = await server.ConnectAsync();
        var response = await client.RequestAsync(1, Environ("/error"));
        Assert.Equal("Status: 500 Internal Server Error\r\nContent-Type: text/html; charset=utf-8", response.Head);
        Assert.Contains("<h1>500 Internal Server Error</h1>", response.BodyText, StringComparison.Ordinal);
        Assert.DoesNotContain("failed on purpose", response.BodyText, StringComparison.Ordinal);
        Assert.Contains("System.InvalidOperationException: echo: the error action failed on purpose", response.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/nothing-here", 404, "not found\n")]
    [InlineData("/status?code=418", 418, "status 418\n")]
    [InlineData("/status?code=201", 201, "status 201\n")]
    public async Task Status_and_not_found(string uri, int status, string body)
    {
        await using var server = await StartAsync(1);
        await using var client = await server.ConnectAsync();
        var response = await client.RequestAsync(1, Environ(uri));
        Assert.StartsWith($"{status} ", response.Header("Status"), StringComparison.Ordinal);
        Assert.Equal(body, response.BodyText);
    }

    [Theory]
    [MemberData(nameof(Levels))]
    public async Task Authorizer_grants_with_variables_and_denies_otherwise(int level)
    {
        await using var server = await StartAsync(level);
        await using var client = await server.ConnectAsync();
        var granted = await client.RequestAsync(1, Environ("/private", extra: new Dictionary<string, string> { ["HTTP_AUTHORIZATION"] = "Bearer letmein" }), null, role: 2);
        Assert.Equal("Status: 200 OK\r\nVariable-AUTH_USER: alice\r\n\r\n", granted.Text);
        var denied = await client.RequestAsync(2, Environ("/private", extra: new Dictionary<string, string> { ["HTTP_AUTHORIZATION"] = "Bearer nope" }), null, role: 2);
        Assert.Equal("Status: 403 Forbidden\r\nContent-Type: text/plain\r\n\r\nforbidden\n", denied.Text);
    }

    [Fact]
    public async Task Authorizer_runs_without_any_stdin_record()
    {
        await using var server = await StartAsync(1);
        await using var client = await server.ConnectAsync();
        await client.SendAsync([.. Begin(1, role: 2), .. FcgiRecords.Stream(Params, 1, NameValues(Environ("/x")))]);
        var response = await client.ReadResponseAsync(1);
        Assert.Equal("Status: 403 Forbidden\r\nContent-Type: text/plain", response.Head);
    }

    [Theory]
    [MemberData(nameof(Levels))]
    public async Task Filter_uppercases_the_data_stream(int level)
    {
        await using var server = await StartAsync(level);
        await using var client = await server.ConnectAsync();
        var data = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("hello, filter! ", 10000)));
        var environ = Environ("/file.txt", extra: new Dictionary<string, string> { ["FCGI_DATA_LENGTH"] = data.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), ["FCGI_DATA_LAST_MOD"] = "1700000000" });
        await client.SendAsync([.. Request(1, environ, [], role: 3), .. FcgiRecords.Stream(Data, 1, data)]);
        var response = await client.ReadResponseAsync(1);
        Assert.Equal("Content-Type: text/plain", response.Head);
        Assert.Equal(Encoding.ASCII.GetString(data).ToUpperInvariant(), Encoding.ASCII.GetString(response.Body));
    }

    [Fact]
    public async Task Filter_with_a_wrong_data_length_is_500()
    {
        await using var server = await StartAsync(1);
        await using var client = await server.ConnectAsync();
        var environ = Environ("/file.txt", extra: new Dictionary<string, string> { ["FCGI_DATA_LENGTH"] = "10" });
        await client.SendAsync([.. Request(1, environ, [], role: 3), .. FcgiRecords.Stream(Data, 1, "abc"u8)]);
        var response = await client.ReadResponseAsync(1);
        Assert.StartsWith("Status: 500 ", response.Head, StringComparison.Ordinal);
        Assert.Contains("FCGI_DATA_LENGTH is 10 but 3 bytes", response.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Max_requests_makes_the_server_exit_after_that_many()
    {
        // The start-up probe is the first of the three requests.
        await using var server = await StartAsync(1, "--max-requests", "3");
        await using var client = await server.ConnectAsync();
        Assert.Equal("Hello, world!\n", (await client.RequestAsync(1, Environ("/hello"))).BodyText);
        Assert.Equal("Hello, world!\n", (await client.RequestAsync(2, Environ("/hello"))).BodyText);
        Assert.True(await server.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(0, server.ExitCode);
    }

    [Fact]
    public async Task Web_server_addresses_refuse_other_peers()
    {
        await using var refused = await EchoServer.StartAsync(tcp: true, environment: new Dictionary<string, string> { ["FCGI_WEB_SERVER_ADDRS"] = "10.1.2.3" }, probe: false);
        await using (var client = await refused.ConnectAsync())
        {
            await client.SendAsync(Request(1, Environ("/hello"), []));
            Assert.True(await client.IsClosedAsync(TimeSpan.FromSeconds(5)));
        }

        await using var allowed = await EchoServer.StartAsync(tcp: true, environment: new Dictionary<string, string> { ["FCGI_WEB_SERVER_ADDRS"] = "10.1.2.3, 127.0.0.1" });
        await using var ok = await allowed.ConnectAsync();
        Assert.Equal("Hello, world!\n", (await ok.RequestAsync(1, Environ("/hello"))).BodyText);
    }

    [Fact]
    public async Task Gzip_request_type_compresses_when_accepted()
    {
        await using var server = await StartAsync(1, "--gzip");
        await using var client = await server.ConnectAsync();
        var gzip = await client.RequestAsync(1, Environ("/hello", extra: new Dictionary<string, string> { ["HTTP_ACCEPT_ENCODING"] = "gzip, deflate" }));
        Assert.Equal("Content-Type: text/plain\r\nVary: Accept-Encoding\r\nContent-Encoding: gzip", gzip.Head);
        using var inflated = new System.IO.Compression.GZipStream(new MemoryStream(gzip.Body), System.IO.Compression.CompressionMode.Decompress);
        Assert.Equal("Hello, world!\n", new StreamReader(inflated).ReadToEnd());
        var plain = await client.RequestAsync(2, Environ("/hello", extra: new Dictionary<string, string> { ["HTTP_ACCEPT_ENCODING"] = "gzip;q=0" }));
        Assert.Equal("Content-Type: text/plain\r\nVary: Accept-Encoding\r\n\r\nHello, world!\n", plain.Text);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task A_1_GB_big_response_keeps_rss_under_100_MB(int level)
    {
        await using var server = await StartAsync(level);
        await using var client = await server.ConnectAsync();
        const long size = 1L << 30;
        await client.SendAsync(Request(1, Environ($"/big?bytes={size}"), []));
        long total = 0, records = 0;
        var head = true;
        var expectedOffset = 0L;
        var pattern = "0123456789abcdef"u8.ToArray();
        while (true)
        {
            var record = await client.ReadRecordAsync() ?? throw new EndOfStreamException();
            if (record.Type == EndRequest)
            {
                break;
            }

            Assert.Equal(Stdout, record.Type);
            var content = record.Content.AsSpan();
            if (head && content.Length > 0)
            {
                var end = content.IndexOf("\r\n\r\n"u8);
                Assert.Equal("Content-Type: application/octet-stream", Encoding.ASCII.GetString(content[..end]));
                content = content[(end + 4)..];
                head = false;
            }

            for (var i = 0; i < content.Length; i += 4099)
            {
                Assert.Equal(pattern[(int)((expectedOffset + i) % 16)], content[i]);
            }

            expectedOffset += content.Length;
            total += content.Length;
            records++;
        }

        Assert.Equal(size, total);
        Assert.True(server.PeakRssBytes() < 100L * 1024 * 1024, $"peak RSS {server.PeakRssBytes() / 1024 / 1024} MB");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task A_1_GB_upload_is_hashed_as_it_streams_with_rss_under_100_MB(int level)
    {
        await using var server = await StartAsync(level);
        await using var client = await server.ConnectAsync();
        const long size = 1L << 30;
        await client.SendAsync([.. Begin(1), .. FcgiRecords.Stream(Params, 1, NameValues(Environ("/upload", "POST", "application/octet-stream", size)))]);
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        var chunk = new byte[65535];
        new Random(42).NextBytes(chunk);
        var record = Record(Stdin, 1, chunk);
        for (long sent = 0; sent < size;)
        {
            var n = (int)Math.Min(chunk.Length, size - sent);
            await client.SendAsync(n == chunk.Length ? record : Record(Stdin, 1, chunk.AsSpan(0, n)));
            sha.AppendData(chunk, 0, n);
            sent += n;
        }

        await client.SendAsync(Record(Stdin, 1, []));
        var response = await client.ReadResponseAsync(1);
        Assert.Equal($"{{\"length\": {size}, \"sha256\": \"{Convert.ToHexStringLower(sha.GetHashAndReset())}\"}}", response.BodyText);
        Assert.True(server.PeakRssBytes() < 100L * 1024 * 1024, $"peak RSS {server.PeakRssBytes() / 1024 / 1024} MB");
    }

    private static Task<EchoServer> StartAsync(int level, params string[] more) =>
        EchoServer.StartAsync(["--threading-level", level.ToString(System.Globalization.CultureInfo.InvariantCulture), .. more]);
}
