using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using FastCgi.IntegrationTests.Support;
using Xunit;
using static FastCgi.Testing.CgiVariables;

namespace FastCgi.IntegrationTests.EndToEnd;

/// <summary>
/// The status page's listen queue (php-fpm's "listen queue", "max listen queue", "listen queue len") read from the
/// kernel (TCP_INFO on the listening socket) by the echo sample listening itself at threading level 0, where every
/// connection after the one being served waits in the kernel's accept queue.
/// </summary>
public sealed class ListenQueueTests
{
    [Fact]
    public async Task Connections_waiting_in_the_accept_queue_show_as_the_max_listen_queue()
    {
        var port = EchoServer.FreePort();
        var endPoint = new IPEndPoint(IPAddress.Loopback, port);
        await using var server = await EchoServer.StartListeningAsync($"127.0.0.1:{port}", endPoint, "--threading-level", "0", "--status-path", "/status");
        await using var blocked = await server.ConnectAsync();
        await blocked.SendAsync(Testing.FcgiRecords.Request(1, Environ("/block?ms=2500"), [], keepConnection: false));

        // Three connections that only connect and go, and the monitor's: four in the queue while the block runs,
        // sampled once a second. Each closed one is taken from the queue, seen closed and dropped in turn.
        var waiting = new List<Socket>();
        for (var i = 0; i < 3; i++)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(endPoint, TestContext.Current.CancellationToken);
            waiting.Add(socket);
        }

        await using var monitor = await server.ConnectAsync();
        await monitor.SendAsync(Testing.FcgiRecords.Request(1, Environ("/status?json"), [], keepConnection: false));
        foreach (var socket in waiting)
        {
            socket.Dispose();
        }

        Assert.Equal("blocked 2500\n", (await blocked.ReadResponseAsync(1)).BodyText);
        using var status = JsonDocument.Parse((await monitor.ReadResponseAsync(1)).Body);
        var figures = status.RootElement;

        // The queue is empty by the time the monitor is served; it held four while the block ran (five only if a
        // sample fell in the instant before the host took the blocked connection). Its size is --listen's backlog.
        Assert.Equal((0, 512), (figures.GetProperty("listen queue").GetInt64(), figures.GetProperty("listen queue len").GetInt64()));
        Assert.InRange(figures.GetProperty("max listen queue").GetInt64(), 4, 5);
    }
}
