using System.Security.Cryptography;
using FastCgi.Tool.Tests.Support;
using Xunit;

namespace FastCgi.Tool.Tests;

/// <summary><c>fcgi request</c> and <c>fcgi get-values</c> against the echo sample (spawned on fd 0, TCP, IPv6, Unix).</summary>
public sealed class RequestTests
{
    private const string HelloResponse = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nHello, world!\n";

    [Fact]
    public async Task Spawned_echo_answers_hello_as_a_status_line_headers_and_body()
    {
        var result = await Fcgi.RunAsync("request", Paths.Echo, "/hello");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(HelloResponse, result.Stdout);
    }

    [Fact]
    public async Task Raw_prints_the_cgi_bytes_as_the_application_wrote_them()
    {
        var result = await Fcgi.RunAsync("request", "--raw", Paths.Echo, "/hello");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("Content-Type: text/plain\r\n\r\nHello, world!\n", result.Stdout);
    }

    [Fact]
    public async Task Tcp_ipv6_and_unix_addresses_reach_the_application()
    {
        var (tcp, tcpAddress) = await ServerProcess.StartEchoAsync();
        await using (tcp)
        {
            Assert.Equal(HelloResponse, (await Fcgi.RunAsync("request", tcpAddress, "/hello")).Stdout);
        }

        var port = ServerProcess.FreeTcpPort();
        await using (await ServerProcess.StartAsync(Paths.Echo, ["--listen", $"[::1]:{port}"], new System.Net.IPEndPoint(System.Net.IPAddress.IPv6Loopback, port)))
        {
            Assert.Equal(HelloResponse, (await Fcgi.RunAsync("request", $"[::1]:{port}", "/hello")).Stdout);
        }

        var directory = Directory.CreateTempSubdirectory("fcgi-tool-unix-").FullName;
        var socket = Path.Combine(directory, "echo.sock");
        await using (await ServerProcess.StartAsync(Paths.Echo, ["--listen", "unix:" + socket], new System.Net.Sockets.UnixDomainSocketEndPoint(socket), directory))
        {
            Assert.Equal(HelloResponse, (await Fcgi.RunAsync("request", "unix:" + socket, "/hello")).Stdout);
        }
    }

    [Fact]
    public async Task Method_headers_and_params_become_the_cgi_variables()
    {
        var result = await Fcgi.RunAsync("request", "-X", "DELETE", "-H", "X-Trace: t1", "-H", "Cookie: s=abc", "-p", "SERVER_NAME=example.org", "-p", "EXTRA=1", Paths.Echo, "/echo?a=1");
        Assert.True(result.ExitCode == 0, result.ToString());
        var body = result.Stdout[(result.Stdout.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..];
        Assert.StartsWith("{\"method\":\"DELETE\",\"params\":{\"a\":\"1\"},\"cookies\":{\"s\":\"abc\"},\"environ\":{", body, StringComparison.Ordinal);
        Assert.Contains("\"EXTRA\":\"1\"", body, StringComparison.Ordinal);
        Assert.Contains("\"HTTP_X_TRACE\":\"t1\"", body, StringComparison.Ordinal);
        Assert.Contains("\"SERVER_NAME\":\"example.org\"", body, StringComparison.Ordinal);
        Assert.Contains("\"REQUEST_URI\":\"/echo?a=1\"", body, StringComparison.Ordinal);
        Assert.Contains("\"QUERY_STRING\":\"a=1\"", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_from_a_file_and_from_stdin_reaches_the_application_whole()
    {
        var data = new byte[300_000];
        new Random(7).NextBytes(data);
        var file = Path.GetTempFileName();
        await File.WriteAllBytesAsync(file, data);
        var expected = $"{{\"length\": {data.Length}, \"sha256\": \"{Convert.ToHexStringLower(SHA256.HashData(data))}\"}}";
        try
        {
            var fromFile = await Fcgi.RunAsync("request", "--body", file, Paths.Echo, "/upload");
            Assert.True(fromFile.ExitCode == 0, fromFile.ToString());
            Assert.Equal("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + expected, fromFile.Stdout);

            var fromStdin = await Fcgi.RunAsync(["request", "-d", "-", Paths.Echo, "/upload"], stdin: data);
            Assert.Equal("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + expected, fromStdin.Stdout);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Filter_role_sends_the_data_file()
    {
        var file = Path.GetTempFileName();
        await File.WriteAllTextAsync(file, "make me loud: 123");
        try
        {
            var result = await Fcgi.RunAsync("request", "--role", "Filter", "--data", file, Paths.Echo, "/");
            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.Equal("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nMAKE ME LOUD: 123", result.Stdout);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Authorizer_role_grants_and_denies()
    {
        var granted = await Fcgi.RunAsync("request", "--role", "Authorizer", "-H", "Authorization: Bearer letmein", Paths.Echo, "/private");
        Assert.True(granted.ExitCode == 0, granted.ToString());
        Assert.Equal("HTTP/1.1 200 OK\r\nVariable-AUTH_USER: alice\r\n\r\n", granted.Stdout);

        var denied = await Fcgi.RunAsync("request", "--role", "Authorizer", Paths.Echo, "/private");
        Assert.True(denied.ExitCode == 0, denied.ToString());
        Assert.Equal("HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\n\r\nforbidden\n", denied.Stdout);
    }

    [Fact]
    public async Task Verbose_traces_every_record_both_ways()
    {
        var result = await Fcgi.RunAsync("request", "-v", "--keep-conn", Paths.Echo, "/hello");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(HelloResponse, result.Stdout);
        var lines = result.Stderr.Split('\n');
        Assert.StartsWith("* connected to ", lines[0], StringComparison.Ordinal);
        Assert.Equal("> BEGIN_REQUEST id=1 len=8 role=RESPONDER flags=KEEP_CONN", lines[1]);
        Assert.StartsWith("> PARAMS id=1 len=", lines[2], StringComparison.Ordinal);
        Assert.Contains("    REQUEST_URI=/hello", lines);
        Assert.Contains("> PARAMS id=1 len=0", lines);
        Assert.Contains("> STDIN id=1 len=0", lines);
        Assert.Contains("< STDOUT id=1 len=42 pad=6", lines);
        Assert.Equal("< END_REQUEST id=1 len=8 appStatus=0 protocolStatus=REQUEST_COMPLETE", lines[^2]);
    }

    [Fact]
    public async Task Stderr_records_go_to_stderr_and_the_response_to_stdout()
    {
        var result = await Fcgi.RunAsync("request", Paths.Echo, "/error");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.StartsWith("HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/html; charset=utf-8\r\n\r\n", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("echo: the error action failed on purpose", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("failed on purpose", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Exit_code_says_whether_the_request_completed()
    {
        // A response failing half-way: the connection closes without END_REQUEST.
        var broken = await Fcgi.RunAsync("request", Paths.Echo, "/error?after=10");
        Assert.Equal(3, broken.ExitCode);
        Assert.EndsWith("0123456789", broken.Stdout, StringComparison.Ordinal);
        Assert.Contains("fcgi: the application closed the connection without FCGI_END_REQUEST", broken.Stderr, StringComparison.Ordinal);

        var refused = await Fcgi.RunAsync("request", "--role", "4", Paths.Echo, "/");
        Assert.Equal(4, refused.ExitCode);
        Assert.Contains("FCGI_UNKNOWN_ROLE", refused.Stderr, StringComparison.Ordinal);

        var unreachable = await Fcgi.RunAsync("request", $"127.0.0.1:{ServerProcess.FreeTcpPort()}", "/");
        Assert.Equal(2, unreachable.ExitCode);
        Assert.Contains("Connection refused", unreachable.Stderr, StringComparison.Ordinal);

        var usage = await Fcgi.RunAsync("request", "-p", "NOEQUALS", Paths.Echo, "/");
        Assert.Equal(1, usage.ExitCode);
    }

    [Fact]
    public async Task Get_values_prints_the_answer_of_each_threading_level()
    {
        var level1 = await Fcgi.RunAsync("get-values", Paths.Echo);
        Assert.True(level1.ExitCode == 0, level1.ToString());
        Assert.Equal("FCGI_MAX_CONNS=16384\nFCGI_MAX_REQS=1024\nFCGI_MPXS_CONNS=0\n", level1.Stdout);

        var (server, address) = await ServerProcess.StartEchoAsync("--threading-level", "2", "--max-concurrent-requests", "7");
        await using (server)
        {
            var level2 = await Fcgi.RunAsync("get-values", "-v", address);
            Assert.Equal("FCGI_MAX_CONNS=16384\nFCGI_MAX_REQS=7\nFCGI_MPXS_CONNS=1\n", level2.Stdout);
            Assert.Contains("> GET_VALUES id=0 len=", level2.Stderr, StringComparison.Ordinal);
            Assert.Contains("< GET_VALUES_RESULT id=0 len=", level2.Stderr, StringComparison.Ordinal);
        }
    }
}
