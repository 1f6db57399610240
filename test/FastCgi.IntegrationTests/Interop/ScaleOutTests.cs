using System.Net;
using System.Net.Sockets;
using FastCgi.IntegrationTests.Support;
using FastCgi.Testing;
using Xunit;

namespace FastCgi.IntegrationTests.Interop;

/// <summary>
/// Several machines: two network namespaces, each running the echo sample with FCGI_WEB_SERVER_ADDRS, behind one
/// nginx upstream in the root namespace (docs/snippets/nginx-scale-out.conf).
/// </summary>
public sealed class ScaleOutTests
{
    [Fact]
    public async Task Requests_spread_foreign_addresses_are_refused_and_a_lost_host_loses_no_completed_response()
    {
        var hosts = await ScaleOutHosts.StartAsync(2);
        try
        {
            await using var nginx = await NginxServer.StartAsync("nginx-scale-out.conf", new Dictionary<string, string>
            {
                ["10.77.1."] = $"10.77.{WebServerProcess.Text(hosts.Subnets[0])}.",
                ["10.77.2."] = $"10.77.{WebServerProcess.Text(hosts.Subnets[1])}.",
            });
            using var client = Http.Client(new Uri(nginx.BaseUri, "app/"));
            var first = hosts.AppAddress(0) + ":9000";
            var second = hosts.AppAddress(1) + ":9000";

            // 1. Round robin: both hosts answer, every answer is right. The access log records $upstream_addr.
            for (var i = 0; i < 40; i++)
            {
                await AssertEchoAsync(client, i);
            }

            var upstreams = (await nginx.WaitForAccessLogLinesAsync(40)).Select(line => line.Split(' ')[4]).ToList();
            Assert.Equal(40, upstreams.Count(u => u == first) + upstreams.Count(u => u == second));
            Assert.InRange(upstreams.Count(u => u == first), 10, 30);

            // 2. A connection from an address not in FCGI_WEB_SERVER_ADDRS is closed without a response; the same
            // request from the allowed address is answered.
            var foreign = await hosts.AddForeignAddressAsync(0);
            Assert.Empty(await RawHelloAsync(foreign, hosts.AppAddress(0)));
            Assert.Contains("Hello, world!\n", System.Text.Encoding.ASCII.GetString(await RawHelloAsync(hosts.RootAddress(0), hosts.AppAddress(0))), StringComparison.Ordinal);

            // 3. The second host goes away mid-run: nginx moves on (fastcgi_next_upstream error timeout), and every
            // response that completes is right. Bounded: 200 requests, 4 at a time.
            var next = 40;
            var completed = 0;
            var killed = false;
            var gate = new SemaphoreSlim(1);
            async Task Worker()
            {
                while (true)
                {
                    var i = Interlocked.Increment(ref next) - 1;
                    if (i >= 240)
                    {
                        return;
                    }

                    await AssertEchoAsync(client, i);
                    if (Interlocked.Increment(ref completed) == 50)
                    {
                        await gate.WaitAsync();
                        await hosts.KillAppAsync(1);
                        killed = true;
                        gate.Release();
                    }
                }
            }

            await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Worker()));
            Assert.True(killed);
            Assert.Equal(200, completed);
            var lines = await nginx.WaitForAccessLogLinesAsync(240);
            Assert.Equal(240, lines.Length);
            Assert.All(lines, line => Assert.Equal("200", line.Split(' ')[2]));

            // The last requests all went to the first host (at most a retry after trying the lost one).
            Assert.All(lines[^20..], line => Assert.EndsWith(first, line, StringComparison.Ordinal));
        }
        finally
        {
            await hosts.DisposeAsync();
        }
    }

    private static async Task AssertEchoAsync(HttpClient client, int i)
    {
        using var response = await client.GetAsync($"echo?request={i}", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($$"""{"request":"{{i}}"}""", (await Http.JsonAsync(response)).GetProperty("params").GetRawText());
    }

    /// <summary>
    /// A FastCGI hello from <paramref name="source"/> to the application; the bytes received until it closed. A refusing
    /// application closes with the request unread, so the close may arrive as a reset: that too ends what was received.
    /// </summary>
    private static async Task<byte[]> RawHelloAsync(string source, string app)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Parse(source), 0));
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Parse(app), 9000));
        await using var stream = new NetworkStream(socket);
        using var received = new MemoryStream();
        try
        {
            await stream.WriteAsync(FcgiRecords.Request(1, CgiVariables.Environ("/app/hello"), [], keepConnection: false));
            await stream.CopyToAsync(received).WaitAsync(TimeSpan.FromSeconds(15));
        }
        catch (IOException exception) when (exception.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionReset or SocketError.Shutdown })
        {
            // Closed by the application: what came before the reset is the answer.
        }

        return received.ToArray();
    }
}
