using System.Diagnostics;
using System.Net;

namespace FastCgi.Tool.Tests.Support;

/// <summary>
/// The libfcgi peer of the benchmarks (perf/peers/libfcgi-app.c: hello, big, upload; libfcgi-dev, gcc, libssl-dev),
/// built once per test run, and php-fpm with a pool of its own.
/// </summary>
internal static class NativeApps
{
    private static readonly Lazy<Task<string>> Libfcgi = new(BuildLibfcgiAsync);

    /// <summary>The libfcgi program on a free TCP port, with <paramref name="threads"/> accept threads.</summary>
    public static async Task<(ServerProcess Server, string Address)> StartLibfcgiAsync(int threads = 1)
    {
        var program = await Libfcgi.Value;
        var port = ServerProcess.FreeTcpPort();
        var server = await ServerProcess.StartAsync(program, [$":{port}", threads.ToString(System.Globalization.CultureInfo.InvariantCulture)], new IPEndPoint(IPAddress.Loopback, port));
        return (server, $"127.0.0.1:{port}");
    }

    /// <summary>
    /// php-fpm in the foreground with a static pool of one worker on a Unix socket in a temporary folder, which also
    /// holds <paramref name="scripts"/> (file name → PHP source).
    /// </summary>
    public static async Task<(ServerProcess Server, string Address)> StartPhpFpmAsync(IReadOnlyDictionary<string, string> scripts)
    {
        var phpFpm = System.IO.Directory.GetFiles("/usr/sbin", "php-fpm*").Order(StringComparer.Ordinal).FirstOrDefault()
            ?? throw new InvalidOperationException("php-fpm is not installed: apt-get install php-fpm (scripts/test.sh installs it).");
        var directory = System.IO.Directory.CreateTempSubdirectory("fcgi-tool-php-").FullName;
        foreach (var (name, source) in scripts)
        {
            await File.WriteAllTextAsync(Path.Combine(directory, name), source);
        }

        var socket = Path.Combine(directory, "php.sock");
        await File.WriteAllTextAsync(Path.Combine(directory, "php-fpm.conf"), $"""
            [global]
            pid = {directory}/php-fpm.pid
            error_log = {directory}/error.log
            daemonize = no
            [tool]
            listen = {socket}
            pm = static
            pm.max_children = 1
            php_admin_value[expose_php] = 0
            php_admin_flag[log_errors] = on
            catch_workers_output = yes
            """);

        // -R: the tests may run as root, which php-fpm refuses without it.
        var server = await ServerProcess.StartAsync(phpFpm, ["-F", "-R", "-n", "-y", Path.Combine(directory, "php-fpm.conf"), "-p", directory], new System.Net.Sockets.UnixDomainSocketEndPoint(socket), directory);
        return (server, "unix:" + socket);
    }

    private static async Task<string> BuildLibfcgiAsync()
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("fcgi-tool-libfcgi-").FullName;
        var output = Path.Combine(directory, "libfcgi-app");
        var start = new ProcessStartInfo(Paths.RequireTool("gcc", "gcc"))
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])["-O2", "-Wall", "-Werror", "-pthread", "-o", output, Path.Combine(Paths.Root, "perf/peers/libfcgi-app.c"), "-lfcgi", "-lcrypto"])
        {
            start.ArgumentList.Add(arg);
        }

        using var gcc = Process.Start(start)!;
        var errors = gcc.StandardError.ReadToEndAsync();
        await gcc.StandardOutput.ReadToEndAsync();
        await gcc.WaitForExitAsync();
        return gcc.ExitCode == 0 ? output : throw new InvalidOperationException("gcc failed (apt-get install gcc libfcgi-dev libssl-dev): " + await errors);
    }
}
