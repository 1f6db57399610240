using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using FastCgi.Cgi;
using FastCgi.IntegrationTests.Support;
using FastCgi.Protocol;
using FastCgi.Server;
using FastCgi.Server.Transports;
using FastCgi.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;
using static FastCgi.Testing.CgiVariables;

namespace FastCgi.IntegrationTests.EndToEnd;

/// <summary>
/// systemd socket activation (sd_listen_fds(3)): the echo sample under the real <c>systemd-socket-activate</c>, which
/// binds the sockets, sets <c>LISTEN_FDS</c>, <c>LISTEN_PID</c> and <c>LISTEN_FDNAMES</c>, and at the first
/// connection execs the program in its own place with the sockets from fd 3. Alone: one test sets the variables in
/// this process.
/// </summary>
[Collection(nameof(RunsAlone))]
public sealed partial class SocketActivationTests
{
    private const string Hello = "Hello, world!\n";

    [Fact]
    public async Task Serves_the_tcp_socket_systemd_passes()
    {
        var port = EchoServer.FreePort();
        await using var activator = await Activator.StartAsync(1, "-l", $"127.0.0.1:{port}");

        // The first connection makes systemd-socket-activate exec the sample, which then accepts it.
        await using var client = await FcgiTestClient.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        Assert.Equal(Hello, (await client.RequestAsync(1, Environ("/hello"))).BodyText);
        Assert.Equal("Echo", activator.Command());
    }

    [Fact]
    public async Task Serves_every_socket_of_the_guides_units_tcp_and_unix_alike_and_stops_on_SIGTERM()
    {
        // docs/deployment.md's units: their ListenStream= lines and ExecStart=, with this run's folder, port and build.
        var port = EchoServer.FreePort();
        var directory = Directory.CreateTempSubdirectory("fastcgi-activation-").FullName;
        string Local(string value) => value.Replace("/run/echo", directory, StringComparison.Ordinal)
            .Replace("127.0.0.1:9000", $"127.0.0.1:{port}", StringComparison.Ordinal)
            .Replace("/srv/echo/Echo", EchoApp.Executable, StringComparison.Ordinal);
        string[] Values(string snippet, string key) => [.. Snippets.Read(snippet).Split('\n')
            .Where(line => line.StartsWith(key + "=", StringComparison.Ordinal)).Select(line => Local(line[(key.Length + 1)..]))];
        var listens = Values("systemd-echo.socket", "ListenStream");
        var command = Values("systemd-echo.service", "ExecStart").Single().Split(' ');
        Assert.Equal([Path.Combine(directory, "echo.sock"), $"127.0.0.1:{port}"], listens);
        Assert.Equal(EchoApp.Executable, command[0]);
        await using var activator = await Activator.StartAsync(2, [.. listens.SelectMany(listen => new[] { "-l", listen }), .. command]);

        // The Unix socket (fd 3) starts the sample; the TCP one (fd 4) is served by the same process, and again.
        EndPoint unix = new UnixDomainSocketEndPoint(listens[0]);
        foreach (var endPoint in (EndPoint[])[unix, new IPEndPoint(IPAddress.Loopback, port), unix])
        {
            await using var client = await FcgiTestClient.ConnectAsync(endPoint);
            Assert.Equal(Hello, (await client.RequestAsync(1, Environ("/hello"), keepConnection: false)).BodyText);
        }

        Assert.Equal("Echo", activator.Command());
        activator.Terminate();
        Assert.True(await activator.WaitForExitAsync(TimeSpan.FromSeconds(30)), activator.Output);
        Assert.Equal(0, activator.ExitCode);
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task An_address_to_listen_on_comes_before_the_sockets_systemd_passes()
    {
        var passedPort = EchoServer.FreePort();
        var listenPort = EchoServer.FreePort();
        await using var activator = await Activator.StartAsync(1, "-l", $"127.0.0.1:{passedPort}", EchoApp.Executable, "--listen", $"127.0.0.1:{listenPort}");

        // The connection to the passed socket starts the sample, which binds its own address instead.
        using var starter = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await starter.ConnectAsync(new IPEndPoint(IPAddress.Loopback, passedPort));
        var listening = new IPEndPoint(IPAddress.Loopback, listenPort);
        Assert.True(await ListeningSockets.WaitUntilListeningAsync(listening, TimeSpan.FromSeconds(30)), activator.Output);
        await using var client = await FcgiTestClient.ConnectAsync(listening);
        Assert.Equal(Hello, (await client.RequestAsync(1, Environ("/hello"))).BodyText);
    }

    [Fact]
    public async Task A_passed_socket_that_cannot_carry_FastCGI_fails_the_start_saying_which()
    {
        var port = EchoServer.FreePort();
        await using var activator = await Activator.StartAsync(1, "--datagram", "-l", $"127.0.0.1:{port}");

        // A datagram on the UDP socket starts the sample, which must refuse it rather than serve nothing.
        using (var udp = new UdpClient())
        {
            await udp.SendAsync(new byte[] { 1 }, new IPEndPoint(IPAddress.Loopback, port));
        }

        Assert.True(await activator.WaitForExitAsync(TimeSpan.FromSeconds(30)), activator.Output);
        Assert.NotEqual(0, activator.ExitCode);
        Assert.Contains(
            "LISTEN_FDS=1 passes the descriptors from 3, but descriptor 3 is not a stream socket (a datagram or sequenced-packet socket cannot carry FastCGI).",
            activator.Output,
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task Variables_meant_for_another_process_leave_the_socket_on_fd_0_in_charge()
    {
        // A parent activated by systemd that did not unset the variables: LISTEN_PID names it, not this program.
        var environment = new Dictionary<string, string> { ["LISTEN_PID"] = "1", ["LISTEN_FDS"] = "1" };
        await using var server = await EchoServer.StartAsync(environment: environment);
        await using var client = await server.ConnectAsync();
        Assert.Equal(Hello, (await client.RequestAsync(1, Environ("/hello"))).BodyText);
    }

    [Fact]
    public async Task Variables_meant_for_another_process_leave_a_CGI_run_a_CGI_run()
    {
        var environ = Environ("/cgi-bin/echo/hello", extra: new Dictionary<string, string> { ["LISTEN_PID"] = "1", ["LISTEN_FDS"] = "1" });
        var result = await CgiRun.RunAsync(environ);
        Assert.Equal("Content-Type: text/plain\r\n\r\n" + Hello, result.Text);
        Assert.Equal(("", 0), (result.Stderr, result.ExitCode));
    }

    [Fact]
    public async Task A_child_process_of_a_handler_sees_neither_the_variables_nor_the_sockets()
    {
        var directory = Directory.CreateTempSubdirectory("fastcgi-activation-").FullName;
        var path = Path.Combine(directory, "app.sock");
        using var unix = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        unix.Bind(new UnixDomainSocketEndPoint(path));
        unix.Listen();
        using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        tcp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        tcp.Listen();

        // As systemd passes them: consecutive descriptors, inheritable (dup2 clears close-on-exec), the variables
        // naming this process. Not from 3, which this process uses already.
        var first = FreeDescriptorPair();
        Assert.Equal(first, Dup2((int)unix.Handle, first));
        Assert.Equal(first + 1, Dup2((int)tcp.Handle, first + 1));
        Environment.SetEnvironmentVariable("LISTEN_PID", Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        Environment.SetEnvironmentVariable("LISTEN_FDS", "2");
        Environment.SetEnvironmentVariable("LISTEN_FDNAMES", "unix:tcp");

        IReadOnlyList<(Socket Socket, string Name)> passed;
        try
        {
            passed = SystemdSockets.Take(first) ?? throw new InvalidOperationException("No socket was taken.");
        }
        finally
        {
            // Whatever Take did, no other test of this process may find sockets meant for it.
            Environment.SetEnvironmentVariable("LISTEN_PID", null);
        }

        Assert.Equal([$"{path} (fd {first} 'unix')", $"{tcp.LocalEndPoint} (fd {first + 1} 'tcp')"], passed.Select(p => p.Name));
        Assert.Equal<string?>([null, null], [.. new[] { "LISTEN_FDS", "LISTEN_FDNAMES" }.Select(Environment.GetEnvironmentVariable)]);

        // The handler's child prints what it inherited: each variable, and each passed descriptor still open in it.
        var script = "echo \"LISTEN_PID=${LISTEN_PID-unset} LISTEN_FDS=${LISTEN_FDS-unset} LISTEN_FDNAMES=${LISTEN_FDNAMES-unset}\"; "
            + $"for fd in {first} {first + 1}; do if [ -e /proc/$$/fd/$fd ]; then echo \"fd $fd inherited\"; fi; done";
        var handlers = new Dictionary<Role, Func<Handler>> { [Role.Responder] = () => new ChildHandler(script) };
        var host = new FastCgiHost(new HandlerApplication(handlers, RequestType.Default, RequestLimits.Default), new FastCgiHostOptions { HandleSignals = false });
        await using (host)
        {
            var serving = host.RunAsync(SocketListener.FromSystemd(passed, TimeProvider.System, NullLogger.Instance), CancellationToken.None);
            foreach (var endPoint in (EndPoint[])[new UnixDomainSocketEndPoint(path), tcp.LocalEndPoint!])
            {
                await using var client = await FcgiTestClient.ConnectAsync(endPoint);
                Assert.Equal("LISTEN_PID=unset LISTEN_FDS=unset LISTEN_FDNAMES=unset\n", (await client.RequestAsync(1, Environ("/child"))).BodyText);
            }

            host.Stop();
            await serving;
        }

        Directory.Delete(directory, recursive: true);
    }

    /// <summary>The lowest descriptor of two consecutive ones that this process does not have open.</summary>
    private static int FreeDescriptorPair()
    {
        var open = Directory.GetFiles("/proc/self/fd").Select(f => int.Parse(Path.GetFileName(f), CultureInfo.InvariantCulture)).ToHashSet();
        return Enumerable.Range(900, 100).First(fd => !open.Contains(fd) && !open.Contains(fd + 1));
    }

    [LibraryImport("libc", EntryPoint = "dup2", SetLastError = true)]
    private static partial int Dup2(int descriptor, int target);

    /// <summary>Runs <c>/bin/sh -c SCRIPT</c> and answers with what it printed.</summary>
    private sealed class ChildHandler(string script) : Handler
    {
        public override void Process(Request request)
        {
            var start = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, UseShellExecute = false };
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add(script);
            using var child = System.Diagnostics.Process.Start(start)!;
            var output = child.StandardOutput.ReadToEnd();
            child.WaitForExit();
            request.SetHeader("Content-Type", "text/plain");
            request.Write(output);
        }
    }

    /// <summary><c>systemd-socket-activate</c> with the echo sample as its program, and what both printed.</summary>
    private sealed class Activator : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _output = new();
        private readonly SemaphoreSlim _newLine = new(0);

        private Activator(Process process) => _process = process;

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

        /// <summary>
        /// Starts it with <paramref name="args"/> and waits until it listens on its <paramref name="sockets"/> sockets;
        /// <paramref name="args"/> end with the program and its arguments when they are not the echo sample's alone.</summary>
        public static async Task<Activator> StartAsync(int sockets, params string[] args)
        {
            var start = new ProcessStartInfo(InstalledTools.Require("systemd-socket-activate", "systemd"))
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var arg in args.Contains(EchoApp.Executable) ? args : args.Append(EchoApp.Executable))
            {
                start.ArgumentList.Add(arg);
            }

            var activator = new Activator(Process.Start(start)!);
            activator._process.OutputDataReceived += (_, e) => activator.Append(e.Data);
            activator._process.ErrorDataReceived += (_, e) => activator.Append(e.Data);
            activator._process.BeginOutputReadLine();
            activator._process.BeginErrorReadLine();

            // "Listening on ADDRESS as FD." for each socket, once it is bound.
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (activator.Output.Split('\n').Count(line => line.StartsWith("Listening on ", StringComparison.Ordinal)) < sockets)
            {
                var left = deadline - DateTime.UtcNow;
                if (activator._process.HasExited || left <= TimeSpan.Zero || !await activator._newLine.WaitAsync(left))
                {
                    throw new InvalidOperationException("systemd-socket-activate did not listen: " + activator.Output);
                }
            }

            return activator;
        }

        /// <summary>The program the process runs now (<c>/proc/PID/comm</c>): the sample once exec'd in its place.</summary>
        public string Command() => File.ReadAllText($"/proc/{_process.Id}/comm").TrimEnd('\n');

        /// <summary>Sends SIGTERM, as <c>systemctl stop</c> does.</summary>
        public void Terminate() => Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)])!.WaitForExit();

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

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }

            _process.Dispose();
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
    }
}
