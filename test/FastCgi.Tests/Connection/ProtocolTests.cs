using System.Text;
using FastCgi.Testing;
using FastCgi.Tests.Support;
using Xunit;
using FastCgi.Server;
using FastCgi.Connection;
using static FastCgi.Testing.CgiVariables;
using static FastCgi.Testing.FcgiRecords;

namespace FastCgi.Tests.Connection;

/// <summary>
/// The protocol as a web server sees it (FastCGI 1.0 sections 3 to 6), driven by a scripted fake web server over an
/// in-memory connection at each threading level, asserted on exact records: the three roles, keep-conn, multiplexing,
/// aborts, management records.
/// </summary>
public sealed class ProtocolTests
{
    private const string HelloHead = "Content-Type: text/plain\r\n\r\n";

    public static TheoryData<ThreadingLevel> Levels => [ThreadingLevel.Sequential, ThreadingLevel.PerConnection, ThreadingLevel.Multiplexed];

    [Theory]
    [MemberData(nameof(Levels))]
    public async Task A_responder_answers_in_stdout_records_then_end_request_and_the_kept_connection_serves_the_next(ThreadingLevel level)
    {
        await using var connection = Connect(level);
        var web = connection.WebServer;
        for (ushort id = 1; id <= 2; id++)
        {
            await web.SendAsync(Request(id, Environ("/hello"), []));
            await web.ExpectAsync(Stdout, id, Encoding.ASCII.GetBytes(HelloHead + "Hello, world!\n"));
            await web.ExpectAsync(Stdout, id, []);
            await web.ExpectEndRequestAsync(id);
        }

        Assert.False(connection.Run.IsCompleted);
    }

    [Theory]
    [MemberData(nameof(Levels))]
    public async Task Without_keep_conn_the_application_closes_the_connection_after_end_request(ThreadingLevel level)
    {
        await using var connection = Connect(level);
        var web = connection.WebServer;
        await web.SendAsync(Request(1, Environ("/hello"), [], keepConnection: false));
        Assert.Equal("Hello, world!\n", (await web.ReadResponseAsync(1)).BodyText);
        await web.ExpectClosedAsync();
        await connection.Run.Within("the host to close the connection");
    }

    [Theory]
    [MemberData(nameof(Levels))]
    public async Task A_request_cut_into_pieces_anywhere_gets_the_same_answer(ThreadingLevel level)
    {
        await using var connection = Connect(level);
        var web = connection.WebServer;
        var request = Request(1, Environ("/body?x=1", "POST", "text/plain", 5), "hello"u8.ToArray());
        await web.SendByteByByteAsync(request);
        Assert.Equal("5", (await web.ReadResponseAsync(1)).BodyText);
        await web.SendSplitAsync(Request(2, Environ("/body", "POST", "text/plain", 5), "hello"u8.ToArray()), 3, 8, 9, 17, 40, 100);
        Assert.Equal("5", (await web.ReadResponseAsync(2)).BodyText);
    }

    [Theory]
    [MemberData(nameof(Levels))]
    public async Task An_authorizer_grants_with_variables_and_denies_otherwise(ThreadingLevel level)
    {
        await using var connection = Connect(level);
        var web = connection.WebServer;
        var granted = await web.RequestAsync(1, Environ("/private", extra: [new("HTTP_AUTHORIZATION", "Bearer letmein")]), null, role: Authorizer);
        Assert.Equal("Status: 200 OK\r\nVariable-AUTH_USER: alice\r\n\r\n", granted.Text);
        var denied = await web.RequestAsync(2, Environ("/private", extra: [new("HTTP_AUTHORIZATION", "Bearer nope")]), null, role: Authorizer);
        Assert.Equal("Status: 403 Forbidden\r\nContent-Type: text/plain\r\n\r\nforbidden\n", denied.Text);
    }

    [Fact]
    public async Task An_authorizer_runs_without_any_stdin_record()
    {
        await using var connection = Connect(ThreadingLevel.PerConnection);
        var web = connection.WebServer;
        await web.SendAsync([.. Begin(1, Authorizer), .. FcgiRecords.Stream(Params, 1, NameValues(Environ("/x")))]);
        Assert.Equal("Status: 403 Forbidden\r\nContent-Type: text/plain", (await web.ReadResponseAsync(1)).Head);
    }

    [Theory]
    [MemberData(nameof(Levels))]
    public async Task A_filter_reads_the_data_stream_after_stdin(ThreadingLevel level)
    {
        await using var connection = Connect(level);
        var web = connection.WebServer;
        var data = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("hello, filter! ", 10000)));
        var environ = Environ("/file.txt", extra: [new("FCGI_DATA_LENGTH", data.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)), new("FCGI_DATA_LAST_MOD", "1700000000")]);
        await web.SendAsync([.. Request(1, environ, [], role: Filter), .. FcgiRecords.Stream(Data, 1, data)]);
        var response = await web.ReadResponseAsync(1);
        Assert.Equal("Content-Type: text/plain", response.Head);
        Assert.Equal(Encoding.ASCII.GetString(data).ToUpperInvariant(), response.BodyText);
    }

    [Fact]
    public async Task A_filter_that_fails_is_500_with_the_message_on_stderr()
    {
        await using var connection = Connect(ThreadingLevel.PerConnection);
        var web = connection.WebServer;
        var environ = Environ("/file.txt", extra: [new("FCGI_DATA_LENGTH", "10")]);
        await web.SendAsync([.. Request(1, environ, [], role: Filter), .. FcgiRecords.Stream(Data, 1, "abc"u8)]);
        var response = await web.ReadResponseAsync(1);
        Assert.StartsWith("Status: 500 ", response.Head, StringComparison.Ordinal);
        Assert.Contains("FCGI_DATA_LENGTH is 10 but 3 bytes", response.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_error_is_500_with_the_message_on_stderr_only()
    {
        await using var connection = Connect(ThreadingLevel.PerConnection);
        var response = await connection.WebServer.RequestAsync(1, Environ("/error"));
        Assert.Equal("Status: 500 Internal Server Error\r\nContent-Type: text/html; charset=utf-8", response.Head);
        Assert.Contains("<h1>500 Internal Server Error</h1>", response.BodyText, StringComparison.Ordinal);
        Assert.DoesNotContain("failed on purpose", response.BodyText, StringComparison.Ordinal);
        Assert.Contains("System.InvalidOperationException: the handler failed on purpose", response.Stderr, StringComparison.Ordinal);
        Assert.Equal((0, 0), (response.AppStatus, response.ProtocolStatus));
    }

    [Fact]
    public async Task Level_2_serves_100_interleaved_requests_on_one_connection()
    {
        await using var connection = Connect(ThreadingLevel.Multiplexed);
        var web = connection.WebServer;
        await web.SendAsync(Interleaved(100, id => Environ($"/query?n={id}")));
        for (ushort id = 1; id <= 100; id++)
        {
            var response = await web.ReadResponseAsync(id);
            Assert.Equal((0, $"n={id}"), (response.ProtocolStatus, response.BodyText));
        }
    }

    [Fact]
    public async Task Level_2_answers_a_later_request_while_an_earlier_one_waits()
    {
        var app = new TestApp();
        await using var connection = Connect(ThreadingLevel.Multiplexed, app);
        var web = connection.WebServer;
        await web.SendAsync(Request(1, Environ("/wait?a"), []));
        await app["a"].Entered.Within("request a to reach its gate");
        Assert.Equal("Hello, world!\n", (await web.RequestAsync(2, Environ("/hello"))).BodyText);
        app["a"].Open();
        Assert.Equal("waited a", (await web.ReadResponseAsync(1)).BodyText);
    }

    [Theory]
    [InlineData(ThreadingLevel.Sequential)]
    [InlineData(ThreadingLevel.PerConnection)]
    public async Task Below_level_2_a_second_request_gets_cant_mpx_conn(ThreadingLevel level)
    {
        var app = new TestApp();
        await using var connection = Connect(level, app);
        var web = connection.WebServer;
        await web.SendAsync(Request(1, Environ("/wait?a"), []));
        await app["a"].Entered.Within("request a to reach its gate");
        await web.SendAsync(Begin(2));
        await web.ExpectEndRequestAsync(2, protocolStatus: 1);
        app["a"].Open();
        Assert.Equal("waited a", (await web.ReadResponseAsync(1)).BodyText);
        Assert.Equal("Hello, world!\n", (await web.RequestAsync(3, Environ("/hello"))).BodyText);
    }

    [Theory]
    [MemberData(nameof(Levels))]
    public async Task Abort_during_the_handler_fires_its_token_and_still_ends_the_request(ThreadingLevel level)
    {
        var app = new TestApp();
        await using var connection = Connect(level, app);
        var web = connection.WebServer;
        await web.SendAsync(Request(1, Environ("/wait?a"), []));
        await app["a"].Entered.Within("request a to reach its gate");
        await web.SendAsync(Record(AbortRequest, 1, []));
        Assert.Equal(AbortReason.WebServer, await app["a"].Left);
        var response = await web.ReadResponseAsync(1);
        Assert.Equal((0, 0, 0), (response.Stdout.Length, response.AppStatus, response.ProtocolStatus));
        Assert.Equal("Hello, world!\n", (await web.RequestAsync(2, Environ("/hello"))).BodyText);
    }

    [Theory]
    [MemberData(nameof(Levels))]
    public async Task Abort_before_the_handler_runs_ends_the_request_without_running_it(ThreadingLevel level)
    {
        await using var connection = Connect(level);
        var web = connection.WebServer;

        // PARAMS never end: the handler has not started when the abort comes.
        await web.SendAsync([.. Begin(1), .. Record(Params, 1, NameValues(Environ("/error"))), .. Record(AbortRequest, 1, [])]);
        await web.ExpectEndRequestAsync(1);
        Assert.Equal("Hello, world!\n", (await web.RequestAsync(2, Environ("/hello"))).BodyText);
    }

    [Theory]
    [MemberData(nameof(Levels))]
    public async Task An_abort_in_the_same_read_as_the_whole_request_ends_it_once_its_handler_sees_the_abort(ThreadingLevel level)
    {
        var app = new TestApp();
        await using var connection = Connect(level, app);
        var web = connection.WebServer;

        // The request is complete, so it is ready to run, but its handler starts only after this read's records: the
        // abort is already there when it does. A web server whose client left at once sends exactly this.
        await web.SendAsync([.. Request(1, Environ("/wait?a"), []), .. Record(AbortRequest, 1, [])]);
        Assert.Equal(AbortReason.WebServer, await app["a"].Left.Within("the aborted handler to leave its gate"));
        var response = await web.ReadResponseAsync(1);
        Assert.Equal((0, 0, 0), (response.Stdout.Length, response.AppStatus, response.ProtocolStatus));
        Assert.Equal("Hello, world!\n", (await web.RequestAsync(2, Environ("/hello"))).BodyText);
    }

    [Theory]
    [MemberData(nameof(Levels))]
    public async Task A_lost_connection_aborts_the_handler_and_ends_the_connection(ThreadingLevel level)
    {
        var app = new TestApp();
        await using var connection = Connect(level, app);
        var web = connection.WebServer;
        await web.SendAsync(Request(1, Environ("/wait?a"), []));
        await app["a"].Entered.Within("request a to reach its gate");
        await web.CloseAsync();
        Assert.Equal(AbortReason.ConnectionLost, await app["a"].Left);
        await connection.Run.Within("the host to close the connection");
    }

    [Theory]
    [InlineData(ThreadingLevel.Sequential, "1", "1", "0")]
    [InlineData(ThreadingLevel.PerConnection, null, "1024", "0")]
    [InlineData(ThreadingLevel.Multiplexed, null, "1024", "1")]
    public async Task Get_values_answers_the_limits_enforced_and_drops_unknown_names(ThreadingLevel level, string? maxConns, string maxReqs, string mpxs)
    {
        await using var connection = Connect(level);

        // Above level 0 the connection limit is 16384 lowered to the open-file limit less 256.
        maxConns ??= DescriptorLimit.CapConnections(16384).ToString(System.Globalization.CultureInfo.InvariantCulture);
        await connection.WebServer.SendAsync(Record(GetValues, 0, NameValues([new("FCGI_MAX_CONNS", ""), new("FCGI_MAX_REQS", ""), new("FCGI_MPXS_CONNS", ""), new("X_UNKNOWN", "")])));
        var record = await connection.WebServer.ExpectAsync(GetValuesResult, 0, NameValues([new("FCGI_MAX_CONNS", maxConns), new("FCGI_MAX_REQS", maxReqs), new("FCGI_MPXS_CONNS", mpxs)]));
        Assert.Equal(0, (record.Content.Length + record.Padding) % 8);
    }

    [Fact]
    public async Task Get_values_reports_the_configured_limits()
    {
        var options = new FastCgiServerOptions { Limits = FastCgiServerLimits.Default with { MaxConnections = 7, MaxConcurrentRequests = 3 } };
        await using var connection = new InMemoryConnection(new TestApp().Handlers, options);
        await connection.WebServer.SendAsync(Record(GetValues, 0, NameValues([new("FCGI_MAX_CONNS", ""), new("FCGI_MAX_REQS", "")])));
        await connection.WebServer.ExpectAsync(GetValuesResult, 0, NameValues([new("FCGI_MAX_CONNS", "7"), new("FCGI_MAX_REQS", "3")]));
    }

    [Theory]
    [MemberData(nameof(Levels))]
    public async Task An_unknown_management_type_gets_unknown_type_and_the_connection_goes_on(ThreadingLevel level)
    {
        await using var connection = Connect(level);
        var web = connection.WebServer;
        await web.SendAsync(Record(99, 0, [1, 2, 3]));
        var record = await web.ExpectAsync(UnknownType, 0, [99, 0, 0, 0, 0, 0, 0, 0]);
        Assert.Equal((1, 0), (record.Version, record.Padding));
        Assert.Equal("Hello, world!\n", (await web.RequestAsync(1, Environ("/hello"))).BodyText);
    }

    [Theory]
    [MemberData(nameof(Levels))]
    public async Task An_unknown_role_gets_unknown_role_and_the_connection_goes_on(ThreadingLevel level)
    {
        await using var connection = Connect(level);
        var web = connection.WebServer;
        await web.SendAsync(Begin(1, role: 7));
        await web.ExpectEndRequestAsync(1, protocolStatus: 3);
        Assert.Equal("Hello, world!\n", (await web.RequestAsync(2, Environ("/hello"))).BodyText);
    }

    [Theory]
    [MemberData(nameof(Levels))]
    public async Task Records_for_unknown_request_ids_and_params_before_begin_are_ignored(ThreadingLevel level)
    {
        await using var connection = Connect(level);
        var web = connection.WebServer;
        await web.SendAsync([.. Record(Stdin, 77, "junk"u8), .. Record(Params, 78, []), .. Record(AbortRequest, 79, []), .. Record(Data, 80, "x"u8)]);
        await web.SendAsync([.. FcgiRecords.Stream(Params, 1, NameValues(Environ("/error"))), .. Record(Stdin, 1, [])]);
        Assert.Equal("Hello, world!\n", (await web.RequestAsync(1, Environ("/hello"))).BodyText);
    }

    [Fact]
    public async Task The_gzip_request_type_compresses_when_accepted()
    {
        await using var connection = new InMemoryConnection(new TestApp().Handlers, new FastCgiServerOptions { RequestType = RequestType.GZip });
        var web = connection.WebServer;
        var gzip = await web.RequestAsync(1, Environ("/hello", extra: [new("HTTP_ACCEPT_ENCODING", "gzip, deflate")]));
        Assert.Equal("Content-Type: text/plain\r\nVary: Accept-Encoding\r\nContent-Encoding: gzip", gzip.Head);
        using var inflated = new System.IO.Compression.GZipStream(new MemoryStream(gzip.Body), System.IO.Compression.CompressionMode.Decompress);
        Assert.Equal("Hello, world!\n", await new StreamReader(inflated).ReadToEndAsync(TestContext.Current.CancellationToken));
        var plain = await web.RequestAsync(2, Environ("/hello", extra: [new("HTTP_ACCEPT_ENCODING", "gzip;q=0")]));
        Assert.Equal("Content-Type: text/plain\r\nVary: Accept-Encoding\r\n\r\nHello, world!\n", plain.Text);
    }

    [Theory]
    [InlineData("/nothing-here", "404 Not Found", "not found\n")]
    [InlineData("/query?x", null, "x")]
    public async Task Status_and_not_found(string uri, string? status, string body)
    {
        await using var connection = Connect(ThreadingLevel.PerConnection);
        var response = await connection.WebServer.RequestAsync(1, Environ(uri));
        Assert.Equal((status, body), (response.Header("Status"), response.BodyText));
    }

    private static InMemoryConnection Connect(ThreadingLevel level, TestApp? app = null) =>
        new((app ?? new TestApp()).Handlers, new FastCgiServerOptions { ThreadingLevel = level });
}
