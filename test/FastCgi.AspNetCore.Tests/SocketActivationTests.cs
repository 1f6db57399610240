using System.Net;
using FastCgi.AspNetCore.Tests.Support;
using FastCgi.Testing;
using Xunit;

namespace FastCgi.AspNetCore.Tests;

/// <summary>
/// <c>UseFastCgi()</c> under systemd socket activation: the real <c>systemd-socket-activate</c> binds the socket and
/// execs the sample at the first connection with <c>LISTEN_FDS</c> (fd 0 a pipe, no <c>FastCgi:Listen</c>).
/// </summary>
public sealed class SocketActivationTests
{
    [Fact]
    public async Task Serves_FastCGI_on_the_socket_systemd_passes_and_says_so()
    {
        var port = WebServerProcess.FreeTcpPort();
        string[] launcher = [InstalledTools.Require("systemd-socket-activate", "systemd"), "-l", "127.0.0.1:" + WebServerProcess.Text(port)];
        await using var app = SampleApp.Start([], launcher: launcher);
        await app.WaitUntilListeningAsync(port);

        // Kestrel (the mode when nothing says FastCGI) would answer HTTP, and not on this socket.
        await using var client = await FcgiTestClient.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        Assert.Equal("Hello from ASP.NET Core\n", (await client.RequestAsync(1, CgiVariables.Environ("/"))).BodyText);
        Assert.Equal(1, await app.WaitForOutputAsync("Now listening on: fastcgi:systemd"));
    }
}
