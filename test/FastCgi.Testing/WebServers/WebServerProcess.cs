using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace FastCgi.Testing;

/// <summary>
/// What every real server the interoperability tests start has in common: a private temp folder for its config,
/// sockets and logs; its processes, stopped (SIGTERM, then killed) on dispose; waiting until it listens; its logs.
/// </summary>
public abstract class WebServerProcess : IAsyncDisposable
{
    private readonly List<Process> _processes = [];
    private readonly StringBuilder _output = new();

    protected WebServerProcess(string name)
    {
        Folder = Directory.CreateTempSubdirectory($"fastcgi-{name}-").FullName;

        // CreateTempSubdirectory makes it 0700; worker processes and spawned applications may run as another user.
        Chmod(Folder, "755");
    }

    /// <summary>The temp folder holding the config, the sockets and the logs.</summary>
    public string Folder { get; }

    /// <summary>The web server's own error log.</summary>
    public abstract string ErrorLogPath { get; }

    /// <summary>What the started processes wrote to stdout and stderr.</summary>
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

    /// <summary>The pid of the first process started (the server itself).</summary>
    public int MainPid => _processes[0].Id;

    public string ErrorLog() => ReadShared(ErrorLogPath);

    public string PathIn(string name) => Path.Combine(Folder, name);

    /// <summary>
    /// The program the snippets start (their <c>/srv/echo</c>): the echo sample for the interoperability tests, the
    /// ASP.NET Core sample for its own. Each test assembly sets it once, when it loads.
    /// </summary>
    public static Func<string> Application { get; set; } =
        () => throw new InvalidOperationException("No application for the web servers: set WebServerProcess.Application when the test assembly loads.");

    /// <summary>
    /// A copy of the built <see cref="Application"/> inside the (world-readable) temp folder, made on first use: a
    /// server that runs the program as another user (Apache's www-data) may not reach the checkout, say under /root.
    /// </summary>
    public string ApplicationFolder
    {
        get
        {
            var copy = PathIn("echo");
            if (!Directory.Exists(copy))
            {
                var executable = Application();
                var built = Path.GetDirectoryName(executable)!;
                foreach (var file in Directory.EnumerateFiles(built, "*", SearchOption.AllDirectories))
                {
                    var target = Path.Combine(copy, Path.GetRelativePath(built, file));
                    Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                    File.Copy(file, target);
                }

                Chmod(copy, "755");
                Chmod(Path.Combine(copy, Path.GetFileName(executable)), "755");
            }

            return copy;
        }
    }

    /// <summary>A file the server may still be writing, read without locking it out.</summary>
    public static string ReadShared(string path)
    {
        if (!File.Exists(path))
        {
            return "";
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        return new StreamReader(stream).ReadToEnd();
    }

    /// <summary>Polls a log until <paramref name="done"/> holds for its text (servers write logs after answering).</summary>
    public static async Task<string> WaitForLogAsync(string path, Func<string, bool> done, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            var text = ReadShared(path);
            if (done(text) || DateTime.UtcNow > deadline)
            {
                return text;
            }

            await Task.Delay(50);
        }
    }

    public Task<string> WaitForErrorLogAsync(string contains) => WaitForLogAsync(ErrorLogPath, text => text.Contains(contains, StringComparison.Ordinal));

    /// <summary>Sets a file's mode, given in octal (the servers and tools under test only run on Linux).</summary>
    public static void Chmod(string path, string octal)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("The interoperability tests run on Linux.");
        }

        File.SetUnixFileMode(path, (UnixFileMode)Convert.ToInt32(octal, 8));
    }

    public static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Writes a file into the temp folder and returns its path.</summary>
    protected string WriteFile(string name, string content)
    {
        var path = PathIn(name);
        File.WriteAllText(path, content);
        return path;
    }

    /// <summary>Starts a process of this server; its output is kept for failure messages.</summary>
    protected Process StartProcess(string file, IEnumerable<string> arguments, IDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = Folder,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start " + file);
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes.Add(process);
        return process;
    }

    /// <summary>Runs a short command (a config check, a version query) and returns its output, failing on a non-zero exit.</summary>
    public static async Task<string> RunAsync(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        var output = await stdout + await stderr;
        return process.ExitCode == 0 ? output : throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited {process.ExitCode}: {output}");
    }

    /// <summary>Waits until <paramref name="endPoint"/> accepts a connection (closed at once), or fails with the logs.</summary>
    protected async Task WaitUntilListeningAsync(EndPoint endPoint)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (_processes.Count > 0 && _processes[0].HasExited)
            {
                throw new InvalidOperationException($"{GetType().Name} exited ({_processes[0].ExitCode}): {Output}\n{ErrorLog()}");
            }

            using var socket = endPoint is UnixDomainSocketEndPoint
                ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
                : new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(endPoint);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        throw new TimeoutException($"{GetType().Name} did not start listening on {endPoint}: {Output}\n{ErrorLog()}");
    }

    public virtual async ValueTask DisposeAsync()
    {
        // Last started first: a server stops before the application behind it. SIGTERM lets servers stop the
        // application processes they spawned themselves; whatever is left after the deadline is killed, including
        // descendants that outlived their parent (they would hold the output pipes open, and leak).
        for (var i = _processes.Count - 1; i >= 0; i--)
        {
            var process = _processes[i];
            var descendants = ProcessTable.Descendants(process.Id);
            if (!process.HasExited)
            {
                await SignalAsync(process.Id, "TERM");
                if (!await ExitedAsync(process, TimeSpan.FromSeconds(10)))
                {
                    process.Kill(entireProcessTree: true);
                    await ExitedAsync(process, TimeSpan.FromSeconds(10));
                }
            }

            foreach (var pid in descendants.Where(ProcessTable.IsAlive))
            {
                await SignalAsync(pid, "KILL");
            }

            process.Dispose();
        }

        Directory.Delete(Folder, recursive: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Polls for the exit (not WaitForExitAsync: that also waits for the end of the redirected output).</summary>
    private static async Task<bool> ExitedAsync(Process process, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!process.HasExited && DateTime.UtcNow < deadline)
        {
            await Task.Delay(25);
        }

        return process.HasExited;
    }

    /// <summary>Polls the processes' own output until it contains <paramref name="text"/>.</summary>
    public async Task<string> WaitForOutputAsync(string text)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!Output.Contains(text, StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        return Output;
    }

    public static async Task SignalAsync(int pid, string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", Text(pid)])!;
        await kill.WaitForExitAsync();
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
