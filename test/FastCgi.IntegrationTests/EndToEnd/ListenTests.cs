using System.Net;
using System.Net.Sockets;
using FastCgi.IntegrationTests.Support;
using Xunit;
using static FastCgi.Testing.CgiVariables;

namespace FastCgi.IntegrationTests.EndToEnd;

/// <summary><c>--listen</c>: the server binds TCP (IPv4, IPv6) or a Unix socket itself.</summary>
public sealed class ListenTests
{
    [Fact]
    public async Task Listens_on_tcp_ipv4()
    {
        var port = EchoServer.FreePort();
        await using var server = await EchoServer.StartListeningAsync($"127.0.0.1:{port}", new IPEndPoint(IPAddress.Loopback, port));
        await AssertHelloAsync(server);
    }

    [Fact]
    public async Task Listens_on_tcp_ipv6()
    {
        var port = EchoServer.FreePort();
        await using var server = await EchoServer.StartListeningAsync($"[::1]:{port}", new IPEndPoint(IPAddress.IPv6Loopback, port));
        await AssertHelloAsync(server);
    }

    [Fact]
    public async Task Listens_on_a_unix_socket_with_the_mode_asked_for_and_removes_it_on_exit()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("fastcgi-listen-").FullName, "app.sock");
        await using var server = await EchoServer.StartListeningAsync($"unix:{path}", new UnixDomainSocketEndPoint(path), "--unix-socket-mode", "600");
        await AssertHelloAsync(server);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        server.Signal(15);
        Assert.True(await server.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(0, server.ExitCode);
        Assert.False(File.Exists(path));
    }

    private static async Task AssertHelloAsync(EchoServer server)
    {
        await using var client = await server.ConnectAsync();
        Assert.Equal("Hello, world!\n", (await client.RequestAsync(1, Environ("/hello"))).BodyText);
    }
}
