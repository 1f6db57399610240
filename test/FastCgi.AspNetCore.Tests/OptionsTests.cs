using FastCgi.AspNetCore.Tests.Support;
using FastCgi.Testing;
using Xunit;

namespace FastCgi.AspNetCore.Tests;

/// <summary>Options from code and configuration, checked at start-up; the mode each start gets.</summary>
public sealed class OptionsTests
{
    [Fact]
    public void Defaults_are_valid()
    {
        Assert.Empty(new FastCgiOptions().Validate());
        Assert.Empty(new FastCgiOptions { Listen = "unix:/run/app.sock", UnixSocketMode = "0666", ThreadingLevel = 2, Roles = FastCgiRoles.Responder | FastCgiRoles.Authorizer, AuthorizerPath = "/auth" }.Validate());
        Assert.Empty(new FastCgiOptions { Listen = "[::1]:9000" }.Validate());
        Assert.Empty(new FastCgiOptions { Listen = "*:9000", MaxRequestBodySize = null }.Validate());
    }

    [Fact]
    public void Each_invalid_value_is_named()
    {
        var options = new FastCgiOptions
        {
            Listen = "localhost:90000",
            UnixSocketMode = "999",
            ThreadingLevel = 3,
            Roles = FastCgiRoles.Responder,
            AuthorizerPath = "authorize",
            MaxConnections = 0,
            MaxRequests = -1,
            MaxRequestBodySize = -5,
            InputTimeout = TimeSpan.Zero,
            ShutdownTimeout = TimeSpan.FromSeconds(-1),
        };
        Assert.Equal(
            [
                "FastCgi:Listen 'localhost:90000' is not an address to listen on: IP:PORT, [IPv6]:PORT, *:PORT or unix:PATH.",
                "FastCgi:UnixSocketMode '999' is not an octal file mode of at most 7777 (e.g. 660).",
                "FastCgi:ThreadingLevel 3 is not 0, 1 or 2.",
                "FastCgi:AuthorizerPath 'authorize' must start with '/'.",
                "FastCgi:AuthorizerPath is set but FastCgi:Roles does not include Authorizer.",
                "FastCgi:MaxConnections 0 must be greater than zero.",
                "FastCgi:MaxRequests -1 is negative (0 means no limit).",
                "FastCgi:MaxRequestBodySize -5 is negative (leave it unset for no limit).",
                "FastCgi:InputTimeout 00:00:00 must be greater than zero.",
                "FastCgi:ShutdownTimeout -00:00:01 is negative.",
            ],
            options.Validate());
        Assert.Equal(["FastCgi:Listen 'unix:' has no socket path."], new FastCgiOptions { Listen = "unix:" }.Validate());
        Assert.Equal(["FastCgi:Roles 'None' must name at least one of Responder, Authorizer, Filter."], new FastCgiOptions { Roles = FastCgiRoles.None }.Validate());
    }

    [Fact]
    public async Task An_invalid_configuration_stops_the_start_with_every_problem()
    {
        await using var app = SampleApp.Start(["--FastCgi:Listen=127.0.0.1:1", "--FastCgi:ThreadingLevel=7", "--FastCgi:UnixSocketMode=abc"]);
        Assert.True(await app.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.NotEqual(0, app.ExitCode);
        Assert.Contains("OptionsValidationException: FastCgi:UnixSocketMode 'abc' is not an octal file mode of at most 7777 (e.g. 660).; FastCgi:ThreadingLevel 7 is not 0, 1 or 2.", app.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Configuration_from_the_environment_selects_FastCgi_and_sets_limits()
    {
        var port = WebServerProcess.FreeTcpPort();
        await using var app = SampleApp.Start([], new Dictionary<string, string>
        {
            ["FastCgi__Listen"] = "127.0.0.1:" + WebServerProcess.Text(port),
            ["FastCgi__MaxRequests"] = "2",
        });
        await app.WaitUntilListeningAsync(port);
        await using var nginx = await NginxServer.StartAsync("nginx-aspnetcore.conf", new Dictionary<string, string> { ["127.0.0.1:9000"] = "127.0.0.1:" + WebServerProcess.Text(port) });
        using var client = new HttpClient { BaseAddress = nginx.BaseUri };
        Assert.Equal("Hello from ASP.NET Core\n", await client.GetStringAsync("/"));
        Assert.Equal("Hello from ASP.NET Core\n", await client.GetStringAsync("/"));

        // MaxRequests reached: the server drains and the application stops by itself (jonpy's max_requests).
        Assert.True(await app.WaitForExitAsync(TimeSpan.FromSeconds(30)), app.Output);
        Assert.Equal(0, app.ExitCode);
        Assert.Contains("Now listening on: fastcgi:127.0.0.1:" + WebServerProcess.Text(port), app.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void The_status_and_ping_paths_must_be_url_paths_and_differ()
    {
        Assert.Empty(new FastCgiOptions { StatusPath = "/status", PingPath = "/ping", PingResponse = "ok" }.Validate());
        Assert.Equal(
            [
                "FastCgi:StatusPath 'status' must be a URL path: it starts with '/' and has no '?', '#', white space or control character.",
                "FastCgi:PingPath '/ping?x' must be a URL path: it starts with '/' and has no '?', '#', white space or control character.",
            ],
            new FastCgiOptions { StatusPath = "status", PingPath = "/ping?x" }.Validate());
        Assert.Equal(["FastCgi:StatusPath and FastCgi:PingPath are both '/health'."], new FastCgiOptions { StatusPath = "/health", PingPath = "/health" }.Validate());
    }

    [Fact]
    public async Task The_server_answers_the_status_and_ping_pages_before_the_application()
    {
        var port = WebServerProcess.FreeTcpPort();
        await using var app = SampleApp.Start([], new Dictionary<string, string>
        {
            ["FastCgi__Listen"] = "127.0.0.1:" + WebServerProcess.Text(port),
            ["FastCgi__StatusPath"] = "/status",
            ["FastCgi__PingPath"] = "/ping",
            ["FastCgi__PingResponse"] = "ready",
        });
        await app.WaitUntilListeningAsync(port);
        await using var nginx = await NginxServer.StartAsync("nginx-aspnetcore.conf", new Dictionary<string, string> { ["127.0.0.1:9000"] = "127.0.0.1:" + WebServerProcess.Text(port) });
        using var client = new HttpClient { BaseAddress = nginx.BaseUri };

        Assert.Equal("ready", await client.GetStringAsync("/ping"));
        Assert.Equal("Hello from ASP.NET Core\n", await client.GetStringAsync("/"));
        var status = await client.GetStringAsync("/status");

        // The one request the application served; neither page is one of its requests.
        Assert.Contains("\naccepted requests:   1\nended requests:      1\nactive requests:     0\n", status, StringComparison.Ordinal);
    }
}
