using System.Globalization;
using System.Security.Cryptography;
using FastCgi.IntegrationTests.Support;
using FastCgi.Testing;
using Xunit;
using static FastCgi.Testing.CgiVariables;
using static FastCgi.Testing.FcgiRecords;

namespace FastCgi.IntegrationTests.Hostile;

/// <summary>
/// Mixed traffic with random aborts and disconnects for a bounded time (FASTCGI_SOAK_SECONDS, default 30), then
/// no leaked connections, threads or file descriptors, and every completed response verified.
/// </summary>
public sealed class SoakTests
{
    [Fact]
    public async Task Mixed_traffic_with_aborts_and_disconnects_leaks_nothing()
    {
        var seconds = int.Parse(Environment.GetEnvironmentVariable("FASTCGI_SOAK_SECONDS") ?? "30", CultureInfo.InvariantCulture);
        await using var server = await EchoServer.StartAsync(["--threading-level", "2"]);
        await using (var warmUp = await server.ConnectAsync())
        {
            // Let the runtime open what it opens once (thread pool, epoll), so the baseline is the steady state.
            for (ushort i = 1; i <= 20; i++)
            {
                await warmUp.RequestAsync(i, Environ("/slow?ms=20"));
            }
        }

        var descriptors = server.LeakableFileDescriptors();
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        var workers = Enumerable.Range(0, 8).Select(worker => Task.Run(() => WorkAsync(server, worker, deadline))).ToArray();
        var verified = (await Task.WhenAll(workers)).Sum();
        Assert.True(verified > 100, $"only {verified} responses verified");

        var settle = DateTime.UtcNow.AddSeconds(10);
        while (server.LeakableFileDescriptors() > descriptors + 2 && DateTime.UtcNow < settle)
        {
            await Task.Delay(100);
        }

        Assert.True(server.LeakableFileDescriptors() <= descriptors + 2, $"{descriptors} descriptors before, now {server.DescribeFileDescriptors()}");
        Assert.InRange(server.Threads(), 1, 64);
        Assert.True(server.RssBytes() < 200L * 1024 * 1024, $"RSS {server.RssBytes() >> 20} MB");
        await using var client = await server.ConnectAsync();
        Assert.Equal("Hello, world!\n", (await client.RequestAsync(1, Environ("/hello"))).BodyText);
    }

    private static async Task<int> WorkAsync(EchoServer server, int worker, DateTime deadline)
    {
        var random = new Random(worker);
        var verified = 0;
        FcgiTestClient? client = null;
        ushort id = 0;
        try
        {
            while (DateTime.UtcNow < deadline)
            {
                client ??= await server.ConnectAsync();
                id = (ushort)(id % 60000 + 1);
                switch (random.Next(6))
                {
                    case 0:
                        Assert.Equal("Hello, world!\n", (await client.RequestAsync(id, Environ("/hello"))).BodyText);
                        verified++;
                        break;
                    case 1:
                        var body = new byte[random.Next(0, 300_000)];
                        random.NextBytes(body);
                        var upload = await client.RequestAsync(id, Environ("/upload", "POST", "application/octet-stream", body.Length), body);
                        Assert.Equal($"{{\"length\": {body.Length}, \"sha256\": \"{Convert.ToHexStringLower(SHA256.HashData(body))}\"}}", upload.BodyText);
                        verified++;
                        break;
                    case 2:
                        var size = random.Next(0, 1_000_000);
                        var big = await client.RequestAsync(id, Environ($"/big?bytes={size}"));
                        Assert.Equal(size, big.Body.Length);
                        Assert.True(size == 0 || big.Body[^1] == "0123456789abcdef"[(size - 1) % 16]);
                        verified++;
                        break;
                    case 3:
                        await client.SendAsync(Request(id, Environ("/slow?ms=5000"), []));
                        await Task.Delay(random.Next(1, 30));
                        await client.SendAsync(Record(AbortRequest, id, []));
                        var aborted = await client.ReadResponseAsync(id);
                        Assert.Equal(0, aborted.ProtocolStatus);
                        verified++;
                        break;
                    case 4:
                        // Hang up in the middle of a request: the server must clean up after itself.
                        var request = Request(id, Environ("/upload", "POST", "application/octet-stream", 100_000), new byte[100_000]);
                        await client.SendAsync(request[..random.Next(1, request.Length)]);
                        await client.DisposeAsync();
                        client = null;
                        break;
                    default:
                        var echo = await client.RequestAsync(id, Environ($"/echo?n={id}&tags*=a&tags*=b"));
                        Assert.Contains($"\"params\":{{\"n\":\"{id}\",\"tags*\":[\"a\",\"b\"]}}", echo.BodyText, StringComparison.Ordinal);
                        verified++;
                        break;
                }
            }
        }
        finally
        {
            if (client is not null)
            {
                await client.DisposeAsync();
            }
        }

        return verified;
    }
}
