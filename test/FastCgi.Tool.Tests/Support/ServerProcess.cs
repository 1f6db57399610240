using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace FastCgi.Tool.Tests.Support;

/// <summary>
/// A FastCGI application or web server run by a test: the echo sample (<c>--listen</c>), a libfcgi C program or
/// php-fpm. Its output is kept for failure messages; disposing kills it and removes its folder.
/// </summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServerProcess(Process process, string directory)
    {
        _process = process;
        Directory = directory;
    }

    /// <summary>A private temporary folder for the server's files.</summary>
    public string Directory { get; }

    public int Pid => _process.Id;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts <paramref name="program"/> and waits (at most 30 s) until <paramref name="endPoint"/> accepts a connection.</summary>
    public static async Task<ServerProcess> StartAsync(string program, IEnumerable<string> args, EndPoint endPoint, string? directory = null)
    {
        directory ??= System.IO.Directory.CreateTempSubdirectory("fcgi-tool-test-").FullName;
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        var server = new ServerProcess(Process.Start(start)!, directory);
        server._process.OutputDataReceived += (_, e) => server.Append(e.Data);
        server._process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        await server.WaitUntilConnectableAsync(endPoint);
        return server;
    }

    /// <summary>The echo sample on a free loopback TCP port.</summary>
    public static async Task<(ServerProcess Server, string Address)> StartEchoAsync(params string[] args)
    {
        var port = FreeTcpPort();
        var address = $"127.0.0.1:{port}";
        var server = await StartAsync(Paths.Echo, ["--listen", address, .. args], new IPEndPoint(IPAddress.Loopback, port));
        return (server, address);
    }

    public static int FreeTcpPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A server's leftovers (php-fpm's files) in the temporary folder do not matter to the next test.
        }
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }

    private async Task WaitUntilConnectableAsync(EndPoint endPoint)
    {
        for (var attempt = 0; attempt < 300; attempt++)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The server exited ({_process.ExitCode}) before listening: {Output}");
            }

            using var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, endPoint is IPEndPoint ? ProtocolType.Tcp : ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(endPoint);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }

        throw new TimeoutException($"Nothing listens on {endPoint} after 30 s: {Output}");
    }
}
