using System.Net;
using FastCgi.Tests.Support;
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
        AssertExact(answers);

        // An abort: the client gives up on /slow; both applications see RequestAborted.
        await AbortSlowAsync(viaFastCgi, fastCgi);
        await AbortSlowAsync(viaKestrel, kestrel);
    }

    /// <summary>What the answers are, not only that they agree.</summary>
    private static void AssertExact(Dictionary<string, Answer> answers)
    {
        Assert.Equal((200, "OK", "content-type: text/plain", "Hello from ASP.NET Core\n"), Parts(answers["hello"]));
        Assert.Equal("""{"message":"Hello","numbers":[1,2,3],"nested":{"ok":true}}""", answers["json"].Text);
        Assert.Equal("content-type: application/json; charset=utf-8", answers["json"].Headers);
        Assert.Equal(
            """{"method":"GET","scheme":"http","host":"app.test","pathBase":"","path":"/headers","queryString":"?a=1&b=%2F&c=%C3%A9","headers":{"accept-language":"fr, en;q=0.5","host":"app.test","x-custom":"one"},"remoteAddress":"127.0.0.1","user":null}""",
            answers["headers"].Text);
        Assert.Contains("\"x-multi\":\"a, b\"", answers["headers, repeated"].Text, StringComparison.Ordinal);
        Assert.Contains("\"authorization\":\"Bearer token\"", answers["headers, repeated"].Text, StringComparison.Ordinal);
        Assert.Equal("42\n", answers["item"].Text);
        Assert.Equal("a%2Fb\n", answers["item, encoded slash"].Text);
        Assert.Equal("café\n", answers["item, UTF-8"].Text);
        Assert.Equal("a b+c\n", answers["item, space and plus"].Text);
        Assert.Equal("7\n", answers["item, query"].Text);
        Assert.Equal((418, "I'm a teapot", "", ""), Parts(answers["status 418"]));
        Assert.Equal((204, "No Content", "", ""), Parts(answers["status 204"]));
        Assert.Equal((503, "Service Unavailable", "", ""), Parts(answers["status 503"]));
        Assert.Equal((302, "Found", "location: /\nset-cookie: visited=yes; path=/; httponly", ""), Parts(answers["redirect"]));
        Assert.Equal("""{"a":"1","b":"two","visited":"yes"}""", answers["cookies"].Text);
        Assert.Equal("{}", answers["no cookies"].Text);
        Assert.Equal("line 1\nline 2\nline 3\nline 4\nline 5\n", answers["stream 5"].Text);
        Assert.Equal(string.Concat(Enumerable.Range(1, 2000).Select(i => $"line {i}\n")), answers["stream 2000"].Text);
        Assert.Equal("""{"fields":{"name":["Zoë"],"tags":["a","b&c"]},"files":[]}""", answers["form, URL-encoded"].Text);
        Assert.Equal(
            "{\"fields\":{\"field\":[\"value one\"]},\"files\":["
            + "{\"field\":\"upload\",\"name\":\"a.bin\",\"length\":70000,\"sha256\":\"" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(SampleExchanges.FileA)) + "\"},"
            + "{\"field\":\"upload\",\"name\":\"b.txt\",\"length\":10,\"sha256\":\"" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("text file\n"u8)) + "\"}]}",
            answers["form, multipart"].Text);
        Assert.Equal(
            "{\"length\":3145745,\"sha256\":\"" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(SampleExchanges.Upload)) + "\"}",
            answers["upload 3 MiB"].Text);
        Assert.Equal("{\"length\":0,\"sha256\":\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"}", answers["upload empty"].Text);
        Assert.Equal("slept 20 ms\n", answers["slow, short"].Text);
        Assert.Equal((500, "Internal Server Error", "", ""), Parts(answers["throw"]));
        Assert.Equal((404, "Not Found", "", ""), Parts(answers["unknown path"]));
        Assert.Equal((405, "Method Not Allowed", "allow: GET", ""), Parts(answers["POST to a GET endpoint"]));
        Assert.Equal((405, "Method Not Allowed", "allow: POST", ""), Parts(answers["PUT upload"]));
        Assert.Equal((405, "Method Not Allowed", "allow: GET", ""), Parts(answers["HEAD"]));
    }

    private static (int, string, string, string) Parts(Answer answer) => (answer.Status, answer.Reason, answer.Headers, answer.Text);

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
