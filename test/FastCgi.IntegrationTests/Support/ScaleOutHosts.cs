using System.Diagnostics;
using FastCgi.Testing;

namespace FastCgi.IntegrationTests.Support;

/// <summary>
/// Application "hosts" on one machine: each a Linux network namespace joined to the root namespace by a veth pair on
/// its own /24 (10.77.N.0/24: .1 on the root side, .2 inside), running the echo sample on N.2:9000 with
/// FCGI_WEB_SERVER_ADDRS set to N.1, the only address it should accept. Needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN).
/// The namespaces are deleted on dispose, and stale ones of earlier runs at start.
/// </summary>
internal sealed class ScaleOutHosts : WebServerProcess
{
    private const string Prefix = "fcgi-it-";
    private readonly string _ip;
    private readonly string _suffix = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()[..3]);
    private readonly List<string> _namespaces = [];
    private readonly List<Process> _apps = [];

    private ScaleOutHosts(string ip)
        : base("scale-out")
    {
        _ip = ip;
    }

    /// <summary>The third octet of each host's /24.</summary>
    public IReadOnlyList<int> Subnets { get; private set; } = [];

    public override string ErrorLogPath => PathIn("none");

    /// <summary>The address the application of host <paramref name="index"/> listens on.</summary>
    public string AppAddress(int index) => $"10.77.{Text(Subnets[index])}.2";

    /// <summary>The root namespace's address on host <paramref name="index"/>'s link (what the host accepts).</summary>
    public string RootAddress(int index) => $"10.77.{Text(Subnets[index])}.1";

    public static async Task<ScaleOutHosts> StartAsync(int count)
    {
        var ip = InstalledTools.Require("ip", "iproute2");
        await DeleteStaleNamespacesAsync(ip);
        var hosts = new ScaleOutHosts(ip);
        try
        {
            hosts.Subnets = await FreeSubnetsAsync(ip, count);
            for (var i = 0; i < count; i++)
            {
                await hosts.AddHostAsync(i);
            }

            return hosts;
        }
        catch
        {
            await hosts.DisposeAsync();
            throw;
        }
    }

    /// <summary>Adds one more address on the root side of host <paramref name="index"/>'s link: one the host does not accept.</summary>
    public async Task<string> AddForeignAddressAsync(int index)
    {
        var address = $"10.77.{Text(Subnets[index])}.3";
        await RunAsync(_ip, "addr", "add", address + "/24", "dev", RootLink(index));
        return address;
    }

    /// <summary>Stops the application of host <paramref name="index"/> at once (a machine that goes away).</summary>
    public async Task KillAppAsync(int index)
    {
        _apps[index].Kill();
        await _apps[index].WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
    }

    public override async ValueTask DisposeAsync()
    {
        try
        {
            await base.DisposeAsync();
        }
        finally
        {
            // Deleting a namespace deletes the veth end inside it, and so the pair.
            foreach (var name in _namespaces)
            {
                await TryRunAsync(_ip, "netns", "delete", name);
            }
        }
    }

    private string RootLink(int index) => $"fcr{_suffix}{Text(index)}";

    private async Task AddHostAsync(int index)
    {
        var name = $"{Prefix}{_suffix}-{Text(index)}";
        try
        {
            await RunAsync(_ip, "netns", "add", name);
        }
        catch (InvalidOperationException exception)
        {
            throw new InvalidOperationException(
                "The scale-out test needs Linux network namespaces: 'ip netns add' failed (run as root with CAP_SYS_ADMIN and CAP_NET_ADMIN, not in an unprivileged container). " + exception.Message,
                exception);
        }

        _namespaces.Add(name);
        var inner = $"fcn{_suffix}{Text(index)}";
        await RunAsync(_ip, "link", "add", RootLink(index), "type", "veth", "peer", "name", inner, "netns", name);
        await RunAsync(_ip, "addr", "add", RootAddress(index) + "/24", "dev", RootLink(index));
        await RunAsync(_ip, "link", "set", RootLink(index), "up");
        await RunAsync(_ip, "-n", name, "addr", "add", AppAddress(index) + "/24", "dev", inner);
        await RunAsync(_ip, "-n", name, "link", "set", inner, "up");
        await RunAsync(_ip, "-n", name, "link", "set", "lo", "up");

        // ip netns exec execs the program in the namespace: the process is the echo sample itself.
        _apps.Add(StartProcess(
            _ip,
            ["netns", "exec", name, EchoApp.Executable, "--listen", AppAddress(index) + ":9000"],
            new Dictionary<string, string> { ["FCGI_WEB_SERVER_ADDRS"] = RootAddress(index) }));
        await WaitUntilListeningAsync(new System.Net.IPEndPoint(System.Net.IPAddress.Parse(AppAddress(index)), 9000));
    }

    /// <summary>Two (or more) /24s of 10.77.0.0/16 that no interface uses, at a random place so runs do not collide.</summary>
    private static async Task<IReadOnlyList<int>> FreeSubnetsAsync(string ip, int count)
    {
        var inUse = await RunAsync(ip, "-4", "-o", "addr", "show");
        var free = Enumerable.Range(1, 254).Where(n => !inUse.Contains($" 10.77.{Text(n)}.", StringComparison.Ordinal)).ToList();
        var start = Random.Shared.Next(free.Count - count);
        return free.Skip(start).Take(count).ToList();
    }

    private static async Task DeleteStaleNamespacesAsync(string ip)
    {
        foreach (var line in (await RunAsync(ip, "netns", "list")).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var name = line.Split(' ')[0];
            // Stale: left by a run that died, so nothing runs in it any more (a concurrent run's is busy).
            if (name.StartsWith(Prefix, StringComparison.Ordinal) && (await RunAsync(ip, "netns", "pids", name)).Trim().Length == 0)
            {
                await TryRunAsync(ip, "netns", "delete", name);
            }
        }
    }

    private static async Task TryRunAsync(string file, params string[] arguments)
    {
        try
        {
            await RunAsync(file, arguments);
        }
        catch (InvalidOperationException)
        {
            // Cleanup goes on with the rest.
        }
    }
}
