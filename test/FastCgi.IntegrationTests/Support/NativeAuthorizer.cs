using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using FastCgi.Testing;

namespace FastCgi.IntegrationTests.Support;

/// <summary>
/// The libfcgi C authorizer (Interop/Native/authorizer.c), built with gcc on first use: a different implementation
/// that the web servers' authorizer assertions must hold for too. Its argument picks how a denial is written.
/// </summary>
internal sealed class NativeAuthorizer : IAsyncDisposable
{
    /// <summary>Status, Content-Type and the body in one FCGI_STDOUT record.</summary>
    public const string OneRecord = "one-record";

    /// <summary>Content-Type before Status, one record.</summary>
    public const string TypeFirst = "type-first";

    /// <summary>Status first, the body in a second FCGI_STDOUT record.</summary>
    public const string SplitBody = "split-body";

    private static readonly Lazy<Task<string>> Built = new(BuildAsync);

    private readonly Process _process;

    private NativeAuthorizer(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The built program, in a world-readable folder (lighttpd and spawn-fcgi run it).</summary>
    public static Task<string> ExecutableAsync() => Built.Value;

    /// <summary>Runs the authorizer under spawn-fcgi (no fork) on a free loopback port.</summary>
    public static async Task<NativeAuthorizer> StartAsync(string variant)
    {
        var executable = await ExecutableAsync();
        var port = WebServerProcess.FreeTcpPort();
        var start = new ProcessStartInfo(InstalledTools.Require("spawn-fcgi", "spawn-fcgi"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "-n", "-a", "127.0.0.1", "-p", WebServerProcess.Text(port), "--", executable, variant })
        {
            start.ArgumentList.Add(argument);
        }

        var authorizer = new NativeAuthorizer(Process.Start(start)!, port);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
                return authorizer;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !authorizer._process.HasExited)
            {
                await Task.Delay(50);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private static async Task<string> BuildAsync()
    {
        var gcc = InstalledTools.Require("gcc", "gcc");
        if (!File.Exists("/usr/include/fcgiapp.h"))
        {
            throw new InvalidOperationException("libfcgi's headers are not installed: apt-get install libfcgi-dev (.ci/run installs it).");
        }

        var folder = Directory.CreateTempSubdirectory("fastcgi-authorizer-").FullName;
        WebServerProcess.Chmod(folder, "755");
        var executable = Path.Combine(folder, "authorizer");
        var source = Path.Combine(RepositoryPaths.Root, "test", "FastCgi.IntegrationTests", "Interop", "Native", "authorizer.c");
        await WebServerProcess.RunAsync(gcc, "-O2", "-Wall", "-Werror", "-o", executable, source, "-lfcgi");
        return executable;
    }
}
