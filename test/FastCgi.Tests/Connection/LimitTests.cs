using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using FastCgi.Cgi;
using FastCgi.Server;
using FastCgi.Testing;
using FastCgi.Tests.Support;
using Xunit;
using static FastCgi.Testing.CgiVariables;
using static FastCgi.Testing.FcgiRecords;

namespace FastCgi.Tests.Connection;

/// <summary>
/// Every limit of the README's limits table that a connection enforces, at the limit and one past it, and every
/// timeout, with time advanced by the test rather than waited for.
/// </summary>
public sealed class LimitTests
{
    [Fact]
    public async Task Params_bytes_at_the_limit_are_served_and_one_more_closes_the_connection()
    {
        var options = new FastCgiServerOptions { Limits = FastCgiServerLimits.Default with { MaxParamsBytes = 1000 } };
        await using (var connection = new InMemoryConnection(new TestApp().Handlers, options))
        {
            await connection.WebServer.SendAsync([.. Begin(1), .. FcgiRecords.Stream(Params, 1, ParamsOfLength(1000)), .. Record(Stdin, 1, [])]);
            Assert.Equal("Hello, world!\n", (await connection.WebServer.ReadResponseAsync(1)).BodyText);
        }

        await AssertClosesAsync(options, [.. Begin(1), .. FcgiRecords.Stream(Params, 1, ParamsOfLength(1001))]);
    }

    [Fact]
    public async Task Params_over_the_default_1_MiB_close_the_connection()
    {
        var values = Enumerable.Range(0, 5).Select(i => KeyValuePair.Create($"HTTP_X_{i}", new string('x', 250 * 1024)));
        await using (var connection = Connect())
        {
            var response = await connection.WebServer.RequestAsync(1, Environ("/hello", extra: values.Take(4)));
            Assert.Equal("Hello, world!\n", response.BodyText);
        }

        await AssertClosesAsync(new FastCgiServerOptions(), [.. Begin(1), .. FcgiRecords.Stream(Params, 1, NameValues(Environ("/hello", extra: values)))]);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_name_or_value_of_256_KiB_is_served_and_one_byte_more_closes_the_connection(bool name)
    {
        KeyValuePair<string, string> Pair(int length) => name ? new("HTTP_" + new string('X', length - 5), "v") : new("HTTP_X", new string('x', length));
        await using (var connection = Connect())
        {
            Assert.Equal("Hello, world!\n", (await connection.WebServer.RequestAsync(1, Environ("/hello", extra: [Pair(256 * 1024)]))).BodyText);
        }

        await AssertClosesAsync(new FastCgiServerOptions(), [.. Begin(1), .. FcgiRecords.Stream(Params, 1, NameValues(Environ("/hello", extra: [Pair(256 * 1024 + 1)])))]);
    }

    [Fact]
    public async Task A_thousand_pairs_are_served_and_one_more_closes_the_connection()
    {
        await using (var connection = Connect())
        {
            Assert.Equal("Hello, world!\n", (await connection.WebServer.RequestAsync(1, PairsInAll(1000))).BodyText);
        }

        await AssertClosesAsync(new FastCgiServerOptions(), [.. Begin(1), .. FcgiRecords.Stream(Params, 1, NameValues(PairsInAll(1001)))]);
    }

    [Fact]
    public async Task A_body_at_MaxRequestBodyBytes_is_read_and_one_byte_more_is_413()
    {
        var options = new FastCgiServerOptions { Limits = FastCgiServerLimits.Default with { MaxRequestBodyBytes = 1000 } };
        await using var connection = new InMemoryConnection(new TestApp().Handlers, options);
        var web = connection.WebServer;
        Assert.Equal("1000", (await web.RequestAsync(1, Environ("/body", "POST", "application/octet-stream", 1000), new byte[1000])).BodyText);
        var over = await web.RequestAsync(2, Environ("/body", "POST", "application/octet-stream", 1001), new byte[1001]);
        Assert.Equal("413 Content Too Large", over.Header("Status"));
        Assert.Contains("MaxRequestBodyBytes (1000 bytes)", over.Stderr, StringComparison.Ordinal);
        Assert.Equal("Hello, world!\n", (await web.RequestAsync(3, Environ("/hello"))).BodyText);
    }

    [Theory]
    [InlineData(ThreadingLevel.PerConnection, 1, 999)]
    [InlineData(ThreadingLevel.Multiplexed, 2, 744)]
    public async Task A_thousand_begin_requests_on_one_connection_are_refused_past_the_per_connection_limit(ThreadingLevel level, byte refusal, int refused)
    {
        await using var connection = Connect(level);
        var web = connection.WebServer;
        var all = new MemoryStream();
        for (ushort id = 1; id <= 1000; id++)
        {
            all.Write(Begin(id));
        }

        await web.SendAsync(all.ToArray());
        for (var i = 0; i < refused; i++)
        {
            var record = await web.ReadRecordAsync();
            Assert.Equal((EndRequest, refusal), (record!.Type, record.Content[4]));
        }

        // The accepted requests never send PARAMS: the input timeout closes the connection.
        connection.AdvanceTime(TimeSpan.FromSeconds(31));
        await web.ExpectClosedAsync();
    }

    [Fact]
    public async Task Past_max_concurrent_requests_a_request_gets_overloaded()
    {
        var app = new TestApp();
        var options = new FastCgiServerOptions { ThreadingLevel = ThreadingLevel.Multiplexed, Limits = FastCgiServerLimits.Default with { MaxConcurrentRequests = 2 } };
        await using var connection = new InMemoryConnection(app.Handlers, options);
        var web = connection.WebServer;
        await web.SendAsync([.. Request(1, Environ("/wait?a"), []), .. Request(2, Environ("/wait?b"), [])]);
        await Task.WhenAll(app["a"].Entered, app["b"].Entered).Within("requests a and b to reach their gates");
        await web.SendAsync(Begin(3));
        await web.ExpectEndRequestAsync(3, protocolStatus: 2);

        // The limit is the server's: another connection is refused too.
        await using var other = connection.ConnectAnother();
        await other.WebServer.SendAsync(Begin(1));
        await other.WebServer.ExpectEndRequestAsync(1, protocolStatus: 2);

        app["a"].Open();
        app["b"].Open();
        Assert.Equal("waited a", (await web.ReadResponseAsync(1)).BodyText);
        Assert.Equal("waited b", (await web.ReadResponseAsync(2)).BodyText);
        Assert.Equal("Hello, world!\n", (await web.RequestAsync(4, Environ("/hello"))).BodyText);
    }

    [Fact]
    public async Task A_body_the_handler_does_not_read_is_held_back_past_256_KiB()
    {
        var app = new TestApp();
        await using var connection = new InMemoryConnection(app.Handlers);
        var web = connection.WebServer;
        await web.SendAsync([.. Begin(1), .. FcgiRecords.Stream(Params, 1, NameValues(Environ("/wait?a", "POST", "application/octet-stream", 1 << 20)))]);
        await app["a"].Entered.Within("request a to reach its gate");

        // The connection stops reading once 256 KiB wait for the handler: what follows the body is not read yet.
        var sending = web.SendAsync([.. FcgiRecords.Stream(Stdin, 1, new byte[1 << 20]), .. Record(GetValues, 0, [])]);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => web.ReadRecordAsync(TimeSpan.FromMilliseconds(300)));
        Assert.False(sending.IsCompleted);
        app["a"].Open();
        await sending.Within("the rest of the body to be taken");
        Assert.Equal("waited a", (await web.ReadResponseAsync(1)).BodyText);
        await web.ExpectAsync(GetValuesResult, 0, []);
    }

    [Theory]
    [InlineData("/form", "application/x-www-form-urlencoded", 1024, "1024")]
    [InlineData("/form", "application/x-www-form-urlencoded", 1025, "413 Content Too Large")]
    [InlineData("/form", "multipart/form-data; boundary=b", 1024, "1024")]
    [InlineData("/form", "multipart/form-data; boundary=b", 1025, "413 Content Too Large")]
    public async Task Form_fields_and_parts_past_1024_are_413(string uri, string contentType, int fields, string outcome)
    {
        var body = contentType.StartsWith("multipart/", StringComparison.Ordinal)
            ? Multipart(Enumerable.Range(0, fields).Select(i => ($"f{i}", "1")))
            : Encoding.ASCII.GetBytes(string.Join('&', Enumerable.Range(0, fields).Select(i => $"f{i}=1")));
        await AssertFormOutcomeAsync(new FastCgiServerOptions(), Environ(uri, "POST", contentType, body.Length), body, outcome);
    }

    [Theory]
    [InlineData(100, 10, "a=123456789", "1")]
    [InlineData(100, 10, "a=1234567890", "1")]
    [InlineData(100, 10, "a=12345678901", "413 Content Too Large")]
    [InlineData(12, 100, "a=1&b=1234567", "413 Content Too Large")]
    [InlineData(13, 100, "a=1&b=1234567", "2")]
    public async Task Url_encoded_bytes_and_one_value_past_their_limits_are_413(int maxBytes, int maxValue, string body, string outcome)
    {
        var options = new FastCgiServerOptions { RequestLimits = RequestLimits.Default with { MaxUrlEncodedBytes = maxBytes, MaxFieldValueBytes = maxValue } };
        await AssertFormOutcomeAsync(options, Environ("/form", "POST", "application/x-www-form-urlencoded", body.Length), Encoding.ASCII.GetBytes(body), outcome);
    }

    [Theory]
    [InlineData(16 * 1024, "1")]
    [InlineData(16 * 1024 + 1, "413 Content Too Large")]
    public async Task A_part_header_past_16_KiB_is_413(int headerBytes, string outcome)
    {
        // The header bytes are the header lines with the CRLFs between them, not the empty line that ends them.
        var line = "Content-Disposition: form-data; name=\"f\"\r\nX-Pad: ";
        var headers = line + new string('x', headerBytes - line.Length);
        var body = Encoding.ASCII.GetBytes($"--b\r\n{headers}\r\n\r\n1\r\n--b--\r\n");
        await AssertFormOutcomeAsync(new FastCgiServerOptions(), Environ("/form", "POST", "multipart/form-data; boundary=b", body.Length), body, outcome);
    }

    [Theory]
    [InlineData(0, "1")]
    [InlineData(1, "413 Content Too Large")]
    public async Task A_multipart_body_past_MaxMultipartBytes_is_413(int over, string outcome)
    {
        var body = Multipart([("f", new string('x', 500))]);
        var options = new FastCgiServerOptions { RequestLimits = RequestLimits.Default with { MaxMultipartBytes = body.Length - over } };
        await AssertFormOutcomeAsync(options, Environ("/form", "POST", "multipart/form-data; boundary=b", body.Length), body, outcome);
    }

    [Fact]
    public async Task A_boundary_that_never_closes_is_400()
    {
        var body = Encoding.ASCII.GetBytes("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\n" + new string('z', 200_000));
        await AssertFormOutcomeAsync(new FastCgiServerOptions(), Environ("/form", "POST", "multipart/form-data; boundary=b", body.Length), body, "400 Bad Request");
    }

    [Theory]
    [InlineData(100, 0, "100")]
    [InlineData(101, 0, "431 Request Header Fields Too Large")]
    [InlineData(1, 16 * 1024, "1")]
    [InlineData(1, 16 * 1024 + 1, "431 Request Header Fields Too Large")]
    public async Task Cookies_past_100_or_a_header_past_16_KiB_are_431(int count, int headerBytes, string outcome)
    {
        var cookies = string.Join("; ", Enumerable.Range(0, count).Select(i => $"c{i}=v"));
        cookies += new string('v', Math.Max(0, headerBytes - cookies.Length));
        await AssertFormOutcomeAsync(new FastCgiServerOptions(), Environ("/cookies", extra: [new("HTTP_COOKIE", cookies)]), [], outcome);
    }

    [Fact]
    public async Task A_connection_that_sends_nothing_is_closed_after_the_input_timeout_and_not_before()
    {
        await using (var patient = Connect())
        {
            await patient.WebServer.SyncAsync();
            patient.AdvanceTime(TimeSpan.FromSeconds(29));
            Assert.Equal("Hello, world!\n", (await patient.WebServer.RequestAsync(1, Environ("/hello"))).BodyText);
        }

        // GET_VALUES is no request: once it is answered, the connection exists and its clock runs.
        await using var silent = Connect();
        await silent.WebServer.SyncAsync();
        silent.AdvanceTime(TimeSpan.FromSeconds(31));
        await silent.WebServer.ExpectClosedAsync();
    }

    [Fact]
    public async Task An_idle_kept_connection_is_never_timed_out()
    {
        await using var connection = Connect();
        Assert.Equal("Hello, world!\n", (await connection.WebServer.RequestAsync(1, Environ("/hello"))).BodyText);
        connection.AdvanceTime(TimeSpan.FromHours(1));
        Assert.Equal("Hello, world!\n", (await connection.WebServer.RequestAsync(2, Environ("/hello"))).BodyText);
    }

    [Fact]
    public async Task A_slow_loris_params_stream_is_cut_off_by_the_input_timeout()
    {
        await using var connection = Connect();
        await connection.WebServer.SendAsync([.. Begin(1), .. Record(Params, 1, NameValues(Environ("/hello")).AsSpan(0, 10))]);
        await connection.WebServer.SyncAsync();
        connection.AdvanceTime(TimeSpan.FromSeconds(31));
        await connection.WebServer.ExpectClosedAsync();
    }

    [Fact]
    public async Task A_stalled_body_is_cut_off_by_the_input_timeout()
    {
        await using var connection = Connect();
        await connection.WebServer.SendAsync([.. Begin(1), .. FcgiRecords.Stream(Params, 1, NameValues(Environ("/body", "POST", "application/octet-stream", 100))), .. Record(Stdin, 1, new byte[10])]);
        await connection.WebServer.SyncAsync();
        connection.AdvanceTime(TimeSpan.FromSeconds(31));
        await connection.WebServer.ExpectClosedAsync();
    }

    [Fact]
    public async Task A_web_server_that_stops_reading_is_cut_off_by_the_write_timeout()
    {
        var app = new TestApp();
        var output = new PipeOptions(pauseWriterThreshold: 64 * 1024, resumeWriterThreshold: 32 * 1024);
        await using var connection = new InMemoryConnection(app.Handlers, outputOptions: output, webServerReads: false);
        await connection.WebServer.SendAsync(Request(1, Environ($"/big?{1 << 30}"), []));
        await app.WriteHeld.Within("a write of /big to wait for the web server");

        // A write is waiting for a web server that reads nothing, so it stays held (its start is what the timeout
        // measures): 61 s later the connection is closed, the handler's write fails, and the web server gets what was
        // in flight and the end of the connection.
        connection.AdvanceTime(TimeSpan.FromSeconds(61));
        await connection.Run.Within("the host to close the connection");
        Assert.InRange(await connection.WebServer.ReadToEndAsync(limit: 1 << 20), 0, 1 << 20);
    }

    [Fact]
    public async Task A_stopping_connection_refuses_new_requests_with_overloaded_and_closes_once_its_requests_end()
    {
        var app = new TestApp();
        await using var connection = Connect(ThreadingLevel.Multiplexed, app);
        var web = connection.WebServer;
        await web.SendAsync(Request(1, Environ("/wait?a"), []));
        await app["a"].Entered.Within("request a to reach its gate");
        connection.Host.Stop();

        // Stop() returns at once; the host stops admitting requests when its listener stops.
        await connection.StoppedAccepting.Within("the host to stop accepting");
        await web.SendAsync(Begin(2));
        await web.ExpectEndRequestAsync(2, protocolStatus: 2);
        app["a"].Open();
        Assert.Equal("waited a", (await web.ReadResponseAsync(1)).BodyText);
        await web.ExpectClosedAsync();
    }

    private static async Task AssertFormOutcomeAsync(FastCgiServerOptions options, Dictionary<string, string> environ, byte[] body, string outcome)
    {
        await using var connection = new InMemoryConnection(new TestApp().Handlers, options);
        var response = await connection.WebServer.RequestAsync(1, environ, body);
        Assert.Equal(outcome, char.IsDigit(outcome[0]) && outcome.Contains(' ', StringComparison.Ordinal) ? response.Header("Status") : response.BodyText);
    }

    private static async Task AssertClosesAsync(FastCgiServerOptions options, byte[] bytes)
    {
        await using var connection = new InMemoryConnection(new TestApp().Handlers, options);
        await connection.WebServer.SendAsync(bytes);
        await connection.WebServer.ExpectClosedAsync();
        await connection.Run.Within("the host to close the connection");
    }

    /// <summary>The PARAMS of a GET of /hello padded with one more variable to exactly <paramref name="length"/> bytes.</summary>
    private static byte[] ParamsOfLength(int length)
    {
        for (var pad = 0; ; pad++)
        {
            var bytes = NameValues(Environ("/hello", extra: [new("HTTP_X_PAD", new string('x', pad))]));
            if (bytes.Length >= length)
            {
                return bytes.Length == length ? bytes : throw new InvalidOperationException($"No padding makes {length} bytes of PARAMS.");
            }
        }
    }

    /// <summary>A GET of /hello with <paramref name="count"/> variables in all.</summary>
    private static Dictionary<string, string> PairsInAll(int count)
    {
        var environ = Environ("/hello");
        for (var i = 0; environ.Count < count; i++)
        {
            environ[$"HTTP_X_{i.ToString(CultureInfo.InvariantCulture)}"] = "v";
        }

        return environ;
    }

    private static byte[] Multipart(IEnumerable<(string Name, string Value)> fields) => Encoding.ASCII.GetBytes(
        string.Concat(fields.Select(f => $"--b\r\nContent-Disposition: form-data; name=\"{f.Name}\"\r\n\r\n{f.Value}\r\n")) + "--b--\r\n");

    private static InMemoryConnection Connect(ThreadingLevel level = ThreadingLevel.PerConnection, TestApp? app = null) =>
        new((app ?? new TestApp()).Handlers, new FastCgiServerOptions { ThreadingLevel = level });
}
