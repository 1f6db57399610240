using System.Diagnostics;
using System.Globalization;
using FastCgi.IntegrationTests.Support;
using FastCgi.Testing;

namespace FastCgi.IntegrationTests.Packages;

/// <summary>
/// A published application started as spawn-fcgi starts one, with its listening Unix socket on fd 0, and asked with
/// cgi-fcgi as a web server would ask it.
/// </summary>
internal sealed class SpawnedApplication : IDisposable
{
    private readonly string _directory;
    private readonly int _pid;

    private SpawnedApplication(string directory, int pid)
    {
        _directory = directory;
        _pid = pid;
    }

    private string Socket => Path.Combine(_directory, "app.sock");

    /// <summary>What the application wrote to stdout and stderr (its own log).</summary>
    public string Log => File.ReadAllText(Path.Combine(_directory, "app.log"));

    /// <summary>
    /// spawn-fcgi binds and listens, starts the program with the socket as fd 0, writes its pid and exits: once it
    /// has exited, a connection waits in the socket's backlog until the program accepts it. Their output goes to a
    /// file, where pipes would stay open as long as the program runs.
    /// </summary>
    public static async Task<SpawnedApplication> StartAsync(string program)
    {
        var spawn = InstalledTools.Require("spawn-fcgi", "spawn-fcgi");
        var directory = Directory.CreateTempSubdirectory("fastcgi-app-").FullName;
        var pidFile = Path.Combine(directory, "app.pid");
        var log = Path.Combine(directory, "app.log");
        var start = new ProcessStartInfo("sh") { UseShellExecute = false };
        foreach (var arg in (string[])["-c", "exec \"$0\" -s \"$1\" -P \"$2\" -- \"$3\" >\"$4\" 2>&1", spawn, Path.Combine(directory, "app.sock"), pidFile, program, log])
        {
            start.ArgumentList.Add(arg);
        }

        using var spawner = Process.Start(start)!;
        await spawner.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        if (spawner.ExitCode != 0)
        {
            throw new InvalidOperationException($"spawn-fcgi exited with {spawner.ExitCode}: {File.ReadAllText(log)}");
        }

        return new SpawnedApplication(directory, int.Parse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture));
    }

    /// <summary>One request through cgi-fcgi: its CGI response on stdout.</summary>
    public Task<CgiResult> RequestAsync(IDictionary<string, string> environ) =>
        CgiRun.RunProgramAsync(InstalledTools.Require("cgi-fcgi", "libfcgi-bin"), ["-bind", "-connect", Socket], environ);

    public void Dispose()
    {
        // spawn-fcgi has exited, so the program is not this process's child: it is stopped by its pid.
        if (ProcessTable.IsAlive(_pid))
        {
            using var process = Process.GetProcessById(_pid);
            process.Kill();
        }

        Directory.Delete(_directory, recursive: true);
    }
}
