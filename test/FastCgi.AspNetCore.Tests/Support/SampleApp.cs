using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using FastCgi.Testing;

namespace FastCgi.AspNetCore.Tests.Support;

/// <summary>
/// samples/AspNetCoreApp started as a process: over FastCGI (<c>--FastCgi:Listen</c>) or on Kestrel
/// (<c>--urls</c>), the same build. Stopped with SIGTERM (then killed) on dispose.
/// </summary>
internal sealed class SampleApp : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private SampleApp(Process process) => _process = process;

    public static string Executable { get; } = RepositoryPaths.Sample("AspNetCoreApp");

    /// <summary>The web servers of FastCgi.Testing start the ASP.NET Core sample.</summary>
    [ModuleInitializer]
    internal static void ServeWithWebServers() => WebServerProcess.Application = () => Executable;

    public int Port { get; private set; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

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

    /// <summary>The sample serving FastCGI on 127.0.0.1 and a free port.</summary>
    public static Task<SampleApp> StartFastCgiAsync(params string[] more)
    {
        var port = WebServerProcess.FreeTcpPort();
        return StartAsync(port, ["--FastCgi:Listen=127.0.0.1:" + WebServerProcess.Text(port), .. more]);
    }

    /// <summary>The sample on Kestrel, HTTP on 127.0.0.1 and a free port.</summary>
    public static Task<SampleApp> StartKestrelAsync(params string[] more)
    {
        var port = WebServerProcess.FreeTcpPort();
        return StartAsync(port, ["--urls", "http://127.0.0.1:" + WebServerProcess.Text(port), .. more]);
    }

    /// <summary>
    /// Starts the sample with <paramref name="arguments"/> and does not wait: for start-up failures. A
    /// <paramref name="launcher"/> (a program and its arguments) runs the sample, which is then its last argument.
    /// </summary>
    public static SampleApp Start(IEnumerable<string> arguments, IDictionary<string, string>? environment = null, IReadOnlyList<string>? launcher = null)
    {
        var start = new ProcessStartInfo(launcher?[0] ?? Executable)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(Executable)!,
        };
        foreach (var argument in launcher is null ? arguments : [.. launcher.Skip(1), Executable, .. arguments])
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment.Remove("GATEWAY_INTERFACE");
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var app = new SampleApp(Process.Start(start)!);
        app._process.OutputDataReceived += (_, e) => app.Append(e.Data);
        app._process.ErrorDataReceived += (_, e) => app.Append(e.Data);
        app._process.BeginOutputReadLine();
        app._process.BeginErrorReadLine();
        return app;
    }

    /// <summary>Waits for the exit (polling: WaitForExitAsync also waits for the redirected output's end).</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!_process.HasExited && DateTime.UtcNow < deadline)
        {
            await Task.Delay(25);
        }

        if (_process.HasExited)
        {
            // The exit is known; the last lines of output follow it shortly.
            _process.WaitForExit();
        }

        return _process.HasExited;
    }

    /// <summary>Polls the process's output until it contains <paramref name="text"/> <paramref name="count"/> times.</summary>
    public async Task<int> WaitForOutputAsync(string text, int count = 1)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (Occurrences(text) < count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(25);
        }

        return Occurrences(text);
    }

    public int Occurrences(string text)
    {
        var output = Output;
        var found = 0;
        for (var at = output.IndexOf(text, StringComparison.Ordinal); at >= 0; at = output.IndexOf(text, at + text.Length, StringComparison.Ordinal))
        {
            found++;
        }

        return found;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await WebServerProcess.SignalAsync(_process.Id, "TERM");
            if (!await WaitForExitAsync(TimeSpan.FromSeconds(15)))
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        _process.Dispose();
    }

    private static async Task<SampleApp> StartAsync(int port, IEnumerable<string> arguments)
    {
        var app = Start(arguments);
        try
        {
            await app.WaitUntilListeningAsync(port);
            app.Port = port;
            return app;
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>Waits until <paramref name="port"/> on 127.0.0.1 accepts a connection, or fails with the output.</summary>
    public async Task WaitUntilListeningAsync(int port)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The sample exited ({_process.ExitCode}): {Output}");
            }

            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        throw new TimeoutException("The sample did not start listening: " + Output);
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}
