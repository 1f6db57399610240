using System.Text.Json;
using FastCgi.Tool.Tests.Support;
using Xunit;

namespace FastCgi.Tool.Tests;

/// <summary><c>fcgi bench</c>, briefly and bounded by a request count, against the echo sample and the libfcgi C program.</summary>
public sealed class BenchTests
{
    private static async Task<JsonElement> BenchAsync(int expectedExit, params string[] args)
    {
        var result = await Fcgi.RunAsync(["bench", "--json", "-w", "0.2", .. args], timeoutSeconds: 120);
        Assert.True(result.ExitCode == expectedExit, result.ToString());
        return JsonDocument.Parse(result.Stdout).RootElement;
    }

    // Every measured request is either completed or an error; the histogram holds each completed one once.
    private static void AssertConsistent(JsonElement report, long requests, long errors)
    {
        Assert.Equal(requests, report.GetProperty("sent").GetInt64());
        Assert.Equal(requests - errors, report.GetProperty("completed").GetInt64());
        Assert.Equal(errors, report.GetProperty("errors").GetInt64());
        Assert.Equal(requests - errors, report.GetProperty("histogram").EnumerateArray().Sum(b => b.GetProperty("count").GetInt64()));
        var latency = report.GetProperty("latencyMicroseconds");
        if (requests > errors)
        {
            Assert.True(latency.GetProperty("p50").GetInt64() <= latency.GetProperty("p90").GetInt64());
            Assert.True(latency.GetProperty("p90").GetInt64() <= latency.GetProperty("p99").GetInt64());
            Assert.True(latency.GetProperty("p99").GetInt64() <= latency.GetProperty("p99.9").GetInt64());
            Assert.True(latency.GetProperty("p99.9").GetInt64() <= latency.GetProperty("max").GetInt64());
            Assert.True(report.GetProperty("requestsPerSecond").GetDouble() > 0);
        }
    }

    [Fact]
    public async Task Counted_run_on_kept_connections_completes_every_request_with_the_expected_body()
    {
        var report = await BenchAsync(0, "-c", "3", "-n", "600", "--expect-body", "Hello, world!\\n", Paths.Echo, "/hello");
        AssertConsistent(report, 600, 0);
        Assert.Equal(3, report.GetProperty("connectionsServed").GetInt64());
        Assert.True(report.GetProperty("serverCpuMicrosecondsPerRequest").GetDouble() >= 0);
    }

    [Fact]
    public async Task Multiplexed_requests_on_a_level_2_application_all_complete()
    {
        var report = await BenchAsync(0, "-c", "2", "-m", "8", "-n", "800", "--expect-body", "Hello, world!\\n", Paths.Echo + " --threading-level 2", "/hello");
        AssertConsistent(report, 800, 0);
        Assert.Equal(8, report.GetProperty("inFlight").GetInt32());
        Assert.Equal(2, report.GetProperty("connectionsServed").GetInt64());
    }

    [Fact]
    public async Task Without_keep_conn_every_request_has_its_own_connection()
    {
        var report = await BenchAsync(0, "-c", "2", "-n", "150", "--keep-conn", "false", Paths.Echo, "/hello");
        AssertConsistent(report, 150, 0);
        Assert.Equal(150, report.GetProperty("connectionsServed").GetInt64());
    }

    [Fact]
    public async Task A_body_that_differs_from_the_expected_one_counts_as_an_error()
    {
        var report = await BenchAsync(3, "-c", "1", "-n", "50", "--expect-body", "Goodbye\\n", Paths.Echo, "/hello");
        AssertConsistent(report, 50, 50);
        Assert.Equal(50, report.GetProperty("errorsByKind").GetProperty("unexpected body").GetInt64());
    }

    [Fact]
    public async Task Request_bodies_are_sent_whole()
    {
        // The echo sample's upload answers the length and hash of the body: 1000 bytes of 0123456789abcdef repeated.
        var body = string.Concat(Enumerable.Repeat("0123456789abcdef", 63))[..1000];
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(body)));
        var report = await BenchAsync(0, "-c", "2", "-n", "200", "--body-size", "1000", "--expect-body", $"{{\"length\": 1000, \"sha256\": \"{hash}\"}}", Paths.Echo, "/upload");
        AssertConsistent(report, 200, 0);
    }

    [Fact]
    public async Task Libfcgi_program_is_measured_with_its_cpu_per_request()
    {
        var (server, address) = await NativeApps.StartLibfcgiAsync(threads: 2);
        await using (server)
        {
            var report = await BenchAsync(0, "-c", "2", "-n", "2000", "--pid", server.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture), "--expect-body", "Hello, world!\\n", address, "/hello");
            AssertConsistent(report, 2000, 0);
            Assert.Equal(2, report.GetProperty("connectionsServed").GetInt64());
            Assert.True(report.GetProperty("serverCpuMicrosecondsPerRequest").GetDouble() >= 0);
        }
    }

    [Fact]
    public async Task Timed_run_ends_on_time_and_accounts_for_every_request()
    {
        var report = await BenchAsync(0, "-c", "2", "-d", "1", Paths.Echo, "/hello");
        var sent = report.GetProperty("sent").GetInt64();
        Assert.True(sent > 0);
        AssertConsistent(report, sent, 0);
        Assert.InRange(report.GetProperty("seconds").GetDouble(), 0.9, 5);
    }
    [Fact]
    public async Task A_connection_the_server_never_accepts_is_not_waited_for_at_the_end()
    {
        // A server with fewer workers than connections (libfcgi with 4 threads and 16 connections) leaves some in
        // its backlog: the requests sent on them in the warm-up are never answered and never counted, so the run
        // ends when sending stops rather than 10 s later, when it would give measured requests up.
        using var listener = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        listener.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        listener.Listen(16);
        var address = $"127.0.0.1:{((System.Net.IPEndPoint)listener.LocalEndPoint!).Port}";

        var wall = System.Diagnostics.Stopwatch.StartNew();
        var result = await Fcgi.RunAsync(["bench", "--json", "-w", "0.2", "-c", "2", "-d", "1", address, "/hello"], timeoutSeconds: 120);
        wall.Stop();

        var report = JsonDocument.Parse(result.Stdout).RootElement;
        Assert.Equal(0, report.GetProperty("sent").GetInt64());
        Assert.Equal(0, report.GetProperty("connectionsServed").GetInt64());
        Assert.True(wall.Elapsed < TimeSpan.FromSeconds(9), $"fcgi bench took {wall.Elapsed.TotalSeconds:F1} s for a 1.2 s run: it waited for the give-up time. {result}");
    }
}
