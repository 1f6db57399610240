using System.Net;
using FastCgi.AspNetCore.Tests.Support;
using FastCgi.Testing;
using Xunit;

namespace FastCgi.AspNetCore.Tests;

/// <summary>
/// The sample over FastCGI behind nginx and, in the same test, on Kestrel behind nginx as a reverse proxy: every
/// request gets the same status, reason, application headers and body through both.
/// </summary>
public sealed class NginxComparisonTests
{
    /// <summary>Logs "Request starting ..." as each request reaches the application: the abort waits for it.</summary>
    private static readonly string[] RequestLogging = ["--Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics=Information"];

    [Fact]
    public async Task Every_endpoint_answers_the_same_over_FastCgi_as_on_Kestrel_behind_nginx()
    {
        await using var fastCgi = await SampleApp.StartFastCgiAsync(RequestLogging);
        await using var kestrel = await SampleApp.StartKestrelAsync(RequestLogging);
        var proxyPort = WebServerProcess.FreeTcpPort();
        await using var nginx = await NginxServer.StartAsync(server =>
            Snippets.Render("nginx-aspnetcore.conf", server, server.Port, new Dictionary<string, string> { ["127.0.0.1:9000"] = "127.0.0.1:" + WebServerProcess.Text(fastCgi.Port) })
            + ProxySite(proxyPort, kestrel.Port));
        using var viaFastCgi = Client(nginx.BaseUri);
        using var viaKestrel = Client(new Uri("http://127.0.0.1:" + WebServerProcess.Text(proxyPort) + "/"));

        var answers = new Dictionary<string, Answer>();
        foreach (var exchange in SampleExchanges.All)
        {
            var overFastCgi = await exchange.SendAsync(viaFastCgi);
            var onKestrel = await exchange.SendAsync(viaKestrel);
            Assert.True(overFastCgi.SameAs(onKestrel), $"{exchange}:\n--- FastCGI:\n{overFastCgi}\n--- Kestrel:\n{onKestrel}\n--- app log:\n{fastCgi.Output}");
            answers[exchange.Name] = overFastCgi;
        }

        Assert.True(answers.Count >= 25);
        SampleExpectations.AssertExact(answers, reasonPhrases: true);
        SampleExpectations.AssertHeadersEndpoint(answers);

        // An abort: the client gives up on /slow; both applications see RequestAborted.
        await AbortSlowAsync(viaFastCgi, fastCgi);
        await AbortSlowAsync(viaKestrel, kestrel);
    }

    private static async Task AbortSlowAsync(HttpClient client, SampleApp app)
    {
        using var cancel = new CancellationTokenSource();
        var slow = client.GetAsync("/slow?ms=30000", cancel.Token);

        // Give up once the request has reached the application (its request log line), not after a guessed delay.
        Assert.True(await app.WaitForOutputAsync("/slow?ms=30000 - - -") == 1, app.Output);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => slow);
        Assert.True(await app.WaitForOutputAsync("slow: aborted (ms=30000)") == 1, app.Output);
    }

    private static HttpClient Client(Uri baseUri) => new(new SocketsHttpHandler
    {
        UseCookies = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
    })
    {
        BaseAddress = baseUri,
        Timeout = TimeSpan.FromSeconds(60),
    };

    /// <summary>nginx as a reverse proxy in front of Kestrel, passing Host as the FastCGI site does ($host).</summary>
    private static string ProxySite(int port, int kestrelPort) => $$"""

        upstream kestrel_app {
            server 127.0.0.1:{{WebServerProcess.Text(kestrelPort)}};
            keepalive 16;
        }

        server {
            listen 127.0.0.1:{{WebServerProcess.Text(port)}};
            client_max_body_size 0;
            location / {
                proxy_pass http://kestrel_app;
                proxy_http_version 1.1;
                proxy_set_header Host $host;
                proxy_set_header Connection "";
            }
        }
        """;
}
