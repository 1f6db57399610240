using FastCgi.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace FastCgi.AspNetCore.Tests.Support;

/// <summary>An ASP.NET Core application in the test process, served over FastCGI on 127.0.0.1 and a free port.</summary>
internal static class InProcessApp
{
    public static async Task<(WebApplication App, int Port)> StartAsync(Action<WebApplication> map, Action<FastCgiOptions>? configure = null)
    {
        var port = WebServerProcess.FreeTcpPort();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.Logging.ClearProviders();
        builder.WebHost.UseFastCgi(options =>
        {
            options.Listen = "127.0.0.1:" + WebServerProcess.Text(port);
            configure?.Invoke(options);
        });
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        return (app, port);
    }
}
