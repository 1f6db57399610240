using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using FastCgi.Testing;

namespace FastCgi.IntegrationTests.Support;

/// <summary>The echo sample as the test build made it (the test project builds it through a project reference).</summary>
internal static class EchoApp
{
    /// <summary>The apphost <c>Echo</c> of the same configuration as this test assembly.</summary>
    public static string Executable { get; } = RepositoryPaths.Sample("Echo");

    /// <summary>The web servers of FastCgi.Testing start the echo sample.</summary>
    [ModuleInitializer]
    internal static void ServeWithWebServers() => WebServerProcess.Application = () => Executable;
}

/// <summary>
/// The echo sample started as a FastCGI application the way spawn-fcgi (and lighttpd, mod_fcgid) start one: with its
/// listening socket on file descriptor 0. <c>spawn-fcgi -n</c> execs the program in place, so its pid is the app's.
/// </summary>
internal sealed class EchoServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;
    private readonly System.Text.StringBuilder _output = new();
    private readonly SemaphoreSlim _newLine = new(0);

    private EchoServer(Process process, string directory, EndPoint endPoint)
    {
        _process = process;
        _directory = directory;
        EndPoint = endPoint;
    }

    public EndPoint EndPoint { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>What the process wrote to stdout and stderr (its own log, not the FastCGI error stream).</summary>
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

    /// <summary>
    /// Starts the echo sample binding <paramref name="listen"/> itself (<c>--listen</c>), without spawn-fcgi.
    /// </summary>
    public static async Task<EchoServer> StartListeningAsync(string listen, EndPoint endPoint, params string[] args)
    {
        var directory = Directory.CreateTempSubdirectory("fastcgi-test-").FullName;
        var start = new ProcessStartInfo(EchoApp.Executable)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])["--listen", listen, .. args])
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start)!;
        var server = new EchoServer(process, directory, endPoint);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await server.WaitUntilConnectableAsync(probe: true);
        return server;
    }

    /// <summary>A free TCP port on the loopback interface.</summary>
    public static int FreePort() => FreeTcpPort();

    /// <summary>Starts the echo sample on a Unix socket (or on 127.0.0.1 when <paramref name="tcp"/>).</summary>
    public static async Task<EchoServer> StartAsync(string[]? args = null, bool tcp = false, IDictionary<string, string>? environment = null, bool probe = true)
    {
        var spawn = InstalledTools.Require("spawn-fcgi", "spawn-fcgi");
        var directory = Directory.CreateTempSubdirectory("fastcgi-test-").FullName;
        var start = new ProcessStartInfo(spawn)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        EndPoint endPoint;
        start.ArgumentList.Add("-n");
        if (tcp)
        {
            var port = FreeTcpPort();
            endPoint = new IPEndPoint(IPAddress.Loopback, port);
            foreach (var a in new[] { "-a", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture) })
            {
                start.ArgumentList.Add(a);
            }
        }
        else
        {
            var socket = Path.Combine(directory, "echo.sock");
            endPoint = new UnixDomainSocketEndPoint(socket);
            start.ArgumentList.Add("-s");
            start.ArgumentList.Add(socket);
        }

        start.ArgumentList.Add("--");
        start.ArgumentList.Add(EchoApp.Executable);
        foreach (var arg in args ?? [])
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start)!;
        var server = new EchoServer(process, directory, endPoint);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await server.WaitUntilConnectableAsync(probe);
        return server;
    }

    /// <summary>The Unix socket's path (empty for TCP).</summary>
    public string SocketPath => EndPoint is UnixDomainSocketEndPoint unix ? unix.ToString() : "";

    /// <summary>
    /// Lets other users connect (Apache's children run as www-data): the temp folder becomes traversable and the Unix
    /// socket writable by all.
    /// </summary>
    public void AllowEveryone()
    {
        WebServerProcess.Chmod(_directory, "755");
        if (SocketPath.Length > 0)
        {
            WebServerProcess.Chmod(SocketPath, "777");
        }
    }

    public Task<FcgiTestClient> ConnectAsync() => FcgiTestClient.ConnectAsync(EndPoint);

    /// <summary>The peak resident set size (VmHWM) in bytes, from /proc.</summary>
    public long PeakRssBytes() => ReadStatusKb("VmHWM") * 1024;

    /// <summary>How many file descriptors the process has open, from /proc.</summary>
    public int OpenFileDescriptors() => Directory.GetFiles($"/proc/{Pid}/fd").Length;

    /// <summary>
    /// Descriptors that a leak would leave behind: sockets, pipes and files other than the assemblies and symbol
    /// files the runtime maps as it first needs them.
    /// </summary>
    public int LeakableFileDescriptors() => Directory.GetFiles($"/proc/{Pid}/fd")
        .Select(path => new FileInfo(path).LinkTarget ?? "")
        .Count(target => !target.EndsWith(".dll", StringComparison.Ordinal) && !target.EndsWith(".pdb", StringComparison.Ordinal));

    /// <summary>
    /// How many connections the process holds on its Unix socket, from /proc/net/unix: the accepted ends carry the
    /// socket's path and are connected (state 03); the listening one is not.
    /// </summary>
    public int AcceptedConnections() => File.ReadLines("/proc/net/unix").Skip(1)
        .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        .Count(fields => fields.Length > 7 && fields[5] == "03" && fields[7] == SocketPath);

    /// <summary>What each open descriptor is (for a failure message).</summary>
    public string DescribeFileDescriptors() => string.Join(", ", Directory.GetFiles($"/proc/{Pid}/fd")
        .Select(path => new FileInfo(path).LinkTarget ?? "?")
        .GroupBy(target => target.StartsWith("socket:", StringComparison.Ordinal) ? "socket" : target)
        .Select(group => $"{group.Key} x{group.Count()}"));

    /// <summary>The process's soft limit on open files (RLIMIT_NOFILE), from /proc.</summary>
    public int OpenFileLimit() => OpenFileLimitOf(Pid);

    /// <summary>The soft limit on open files of process <paramref name="pid"/> (or "self"), from /proc.</summary>
    public static int OpenFileLimitOf(object pid)
    {
        var line = File.ReadLines($"/proc/{pid}/limits").First(l => l.StartsWith("Max open files", StringComparison.Ordinal));
        return int.Parse(line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>How many threads the process has, from /proc.</summary>
    public int Threads() => (int)ReadStatusKb("Threads");

    /// <summary>The current resident set size (VmRSS) in bytes, from /proc.</summary>
    public long RssBytes() => ReadStatusKb("VmRSS") * 1024;

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(timeout);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    public int ExitCode => _process.ExitCode;

    /// <summary>Waits until nothing listens on <see cref="EndPoint"/> any more; returns whether it stopped in time.</summary>
    public Task<bool> WaitUntilNotListeningAsync(TimeSpan timeout) => ListeningSockets.WaitUntilClosedAsync(EndPoint, timeout);

    public void Signal(int signal) => Process.Start("kill", [$"-{signal}", Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private long ReadStatusKb(string field)
    {
        foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(':')[1].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"{field} not found for pid {Pid}.");
    }

    /// <summary>Waits until a line of the process's output matches, or fails after <paramref name="timeout"/>.</summary>
    public async Task<string> WaitForOutputLineAsync(Func<string, bool> match, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            lock (_output)
            {
                if (_output.ToString().Split('\n').FirstOrDefault(match) is { } line)
                {
                    return line;
                }
            }

            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || !await _newLine.WaitAsync(left))
            {
                throw new TimeoutException($"No such line from the echo sample within {timeout.TotalSeconds} s; its output:\n{Output}");
            }
        }
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

        _newLine.Release();
    }

    /// <summary>
    /// Waits until the program answers a request; with <paramref name="probe"/> false (a server that refuses this
    /// peer) until it closes a connection from this peer.
    /// </summary>
    private async Task WaitUntilConnectableAsync(bool probe)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The echo sample exited ({_process.ExitCode}): {Output}");
            }

            try
            {
                // spawn-fcgi listens before the program starts, so a connection alone proves nothing: a request
                // answered does (the runtime is up, its signal handlers are in place), and so does a connection
                // the program closes at once because it refuses this peer.
                await using var connection = await ConnectAsync();
                if (!probe)
                {
                    if (!await connection.IsClosedAsync(TimeSpan.FromSeconds(30)))
                    {
                        throw new TimeoutException("The echo sample did not close a connection from a peer it should refuse: " + Output);
                    }

                    return;
                }

                await connection.RequestAsync(1, CgiVariables.Environ("/hello"), [], keepConnection: false);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        throw new TimeoutException("The echo sample did not start listening: " + Output);
    }

    private static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
