using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace FastCgi.Tool;

/// <summary>
/// A FastCGI application started by the tool the way spawn-fcgi, lighttpd and mod_fcgid start one: the tool binds a
/// Unix socket in a private temporary folder and the program inherits it, listening, as file descriptor 0. The socket
/// belongs to the tool, so while the program restarts connections wait in its backlog instead of being refused.
/// </summary>
internal sealed partial class SpawnedApp : IAsyncDisposable
{
    private const int SetFdFlags = 2;
    private const int CloseOnExec = 1;

    // Inheriting the socket means clearing its close-on-exec flag for a moment; one start at a time keeps any other
    // program started meanwhile from inheriting it too.
    private static readonly Lock StartLock = new();

    private readonly string[] _command;
    private readonly string _directory;
    private readonly Socket _listener;
    private readonly bool _outputToStderr;
    private readonly TextWriter? _log;
    private readonly bool _restart;
    private readonly CancellationTokenSource _stopping = new();
    private Process? _process;
    private Task? _supervisor;

    private SpawnedApp(string[] command, bool outputToStderr, bool restart, TextWriter? log)
    {
        _restart = restart;
        _command = command;
        _outputToStderr = outputToStderr;
        _log = log;
        _directory = Directory.CreateTempSubdirectory("fcgi-").FullName;
        var path = Path.Combine(_directory, "app.sock");
        EndPoint = new UnixDomainSocketEndPoint(path);
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(EndPoint);
        _listener.Listen(1024);
    }

    /// <summary>The socket the program listens on.</summary>
    public EndPoint EndPoint { get; }

    /// <summary>The running program's process id, or 0 between a death and its restart.</summary>
    public int ProcessId
    {
        get
        {
            var process = _process;
            return process is { HasExited: false } ? process.Id : 0;
        }
    }

    /// <summary>Raised when the program exited and is to be restarted: connections to it are of no more use.</summary>
    public event Action? Exited;

    /// <summary>How many times the program was started.</summary>
    public int Starts { get; private set; }

    /// <summary>
    /// Starts <paramref name="command"/>. With <paramref name="outputToStderr"/> its standard output goes to the
    /// tool's standard error, so the tool's own output stays clean. With <paramref name="restart"/> the program is
    /// started again whenever it exits (at most once a second); without, its exit closes the socket, so connections
    /// waiting for it fail instead of hanging.
    /// </summary>
    public static SpawnedApp Start(string[] command, bool outputToStderr, bool restart, TextWriter? log = null)
    {
        var app = new SpawnedApp(command, outputToStderr, restart, log);
        try
        {
            app.Launch();
            app._supervisor = Task.Run(app.SuperviseAsync);
            return app;
        }
        catch
        {
            app.DisposeListener();
            throw;
        }
    }

    /// <summary>Stops the program (SIGTERM, then SIGKILL after 5 s) and removes the socket.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_supervisor is not null)
        {
            await _supervisor.ConfigureAwait(false);
        }

        var process = _process;
        if (process is not null)
        {
            if (!process.HasExited)
            {
                _ = Kill(process.Id, Sigterm);
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                try
                {
                    await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                }
            }

            process.Dispose();
        }

        DisposeListener();
        _stopping.Dispose();
    }

    private async Task SuperviseAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            var process = _process!;
            var started = Stopwatch.GetTimestamp();
            try
            {
                await process.WaitForExitAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (!_restart)
            {
                _listener.Dispose();
                return;
            }

            _log?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fcgi: the application (pid {process.Id}) exited with status {process.ExitCode}; restarting it"));
            Exited?.Invoke();
            process.Dispose();
            _process = null;
            var lived = Stopwatch.GetElapsedTime(started);
            if (lived < TimeSpan.FromSeconds(1))
            {
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1) - lived, _stopping.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }

            Launch();
        }
    }

    private void Launch()
    {
        var fd = (int)_listener.SafeHandle.DangerousGetHandle();

        // A shell moves the socket to fd 0 and then execs the program, so the pid is the program's; bash, since dash
        // only redirects descriptors 0 to 9.
        var start = new ProcessStartInfo("/bin/bash") { UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(string.Create(CultureInfo.InvariantCulture, $"exec 0<&{fd} {fd}<&- {(_outputToStderr ? "1>&2 " : "")}\"$@\""));
        start.ArgumentList.Add("fcgi-app");
        foreach (var part in _command)
        {
            start.ArgumentList.Add(part);
        }

        lock (StartLock)
        {
            SetCloseOnExec(fd, false);
            try
            {
                _process = Process.Start(start) ?? throw new InvalidOperationException("The application did not start.");
            }
            finally
            {
                SetCloseOnExec(fd, true);
            }
        }

        Starts++;
    }

    private void DisposeListener()
    {
        _listener.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Left for the system's temporary-file cleaning: nothing else depends on it.
        }
    }

    private static void SetCloseOnExec(int fd, bool on)
    {
        if (Fcntl(fd, SetFdFlags, on ? CloseOnExec : 0) != 0)
        {
            throw new IOException(string.Create(CultureInfo.InvariantCulture, $"fcntl(F_SETFD) failed: errno {Marshal.GetLastPInvokeError()}"));
        }
    }

    private const int Sigterm = 15;

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, int argument);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
