using System.Diagnostics;
using FastCgi.IntegrationTests.Support;
using Xunit;

namespace FastCgi.IntegrationTests.Packages;

/// <summary>
/// The fcgi tool as a user installs it, <c>dotnet tool install</c> from the packed FastCgi.Tool, asking the echo
/// sample (started by the tool with a listening socket on fd 0) for /hello.
/// </summary>
[Collection(nameof(PackageConsumers))]
public sealed class ToolPackageTests(PackageFeed feed)
{
    [Fact]
    public async Task The_installed_tool_sends_a_request()
    {
        var (tools, install) = await feed.InstallToolAsync("FastCgi.Tool");
        install.AssertSucceeded();
        Assert.Empty(install.Warnings);

        var start = new ProcessStartInfo(Path.Combine(tools, "fcgi"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])["request", EchoApp.Executable, "/hello"])
        {
            start.ArgumentList.Add(arg);
        }

        using var fcgi = Process.Start(start)!;
        var stdout = fcgi.StandardOutput.ReadToEndAsync();
        var stderr = fcgi.StandardError.ReadToEndAsync();
        await fcgi.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nHello, world!\n", await stdout);
        Assert.Equal("", await stderr);
        Assert.Equal(0, fcgi.ExitCode);
    }
}
