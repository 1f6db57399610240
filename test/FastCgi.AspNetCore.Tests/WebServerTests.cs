using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using FastCgi.AspNetCore.Tests.Support;
using FastCgi.Testing;
using Xunit;

namespace FastCgi.AspNetCore.Tests;

/// <summary>The sample under Apache mod_proxy_fcgi, under lighttpd (which spawns it, fd 0 a listening socket), and as a plain CGI program.</summary>
public sealed class WebServerTests
{
    [Fact]
    public async Task Apache_mod_proxy_fcgi_serves_every_endpoint()
    {
        await using var app = await SampleApp.StartFastCgiAsync();
        await using var apache = await ApacheServer.StartAsync(
            ["apache-aspnetcore.conf"], new Dictionary<string, string> { ["127.0.0.1:9000"] = "127.0.0.1:" + WebServerProcess.Text(app.Port) });
        var answers = await SendAllAsync(apache.BaseUri);
        SampleExpectations.AssertExact(answers, reasonPhrases: true);
        AssertHeadersBasics(answers["headers"]);
    }

    [Fact]
    public async Task Lighttpd_spawns_the_sample_which_serves_FastCgi_on_fd_0()
    {
        await using var lighttpd = await LighttpdServer.StartAsync("lighttpd-aspnetcore.conf");
        // lighttpd adds Accept-Ranges to every response; the rest is the application's.
        var answers = (await SendAllAsync(lighttpd.BaseUri)).ToDictionary(
            answer => answer.Key,
            answer => answer.Value with { Headers = answer.Value.Headers.Replace("accept-ranges: bytes\n", "", StringComparison.Ordinal).Replace("\naccept-ranges: bytes", "", StringComparison.Ordinal).Replace("accept-ranges: bytes", "", StringComparison.Ordinal) });

        // lighttpd writes its own reason phrases (none for 418): the status codes are the application's.
        SampleExpectations.AssertExact(answers, reasonPhrases: false);
        AssertHeadersBasics(answers["headers"]);
        Assert.Single(lighttpd.ChildrenRunning(Path.Combine(lighttpd.ApplicationFolder, "AspNetCoreApp")));
    }

    [Fact]
    public async Task As_a_CGI_program_it_serves_one_request_and_exits()
    {
        var hello = await RunCgiAsync(new() { ["REQUEST_METHOD"] = "GET", ["REQUEST_URI"] = "/", ["SCRIPT_NAME"] = "/" }, []);
        Assert.Equal((0, "Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 24\r\n\r\nHello from ASP.NET Core\n"), hello);

        var body = Encoding.ASCII.GetBytes("0123456789");
        var upload = await RunCgiAsync(
            new() { ["REQUEST_METHOD"] = "POST", ["SCRIPT_NAME"] = "/cgi-bin/app", ["PATH_INFO"] = "/upload", ["CONTENT_LENGTH"] = "10", ["CONTENT_TYPE"] = "application/octet-stream" },
            [.. body, .. "ignored: past CONTENT_LENGTH"u8.ToArray()]);
        Assert.Equal(
            (0, "Status: 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n\r\n{\"length\":10,\"sha256\":\"" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(body)) + "\"}"),
            upload);

        // PATH_INFO set: SCRIPT_NAME is the path base (RFC 3875 4.1.13).
        var headers = await RunCgiAsync(
            new() { ["REQUEST_METHOD"] = "GET", ["SCRIPT_NAME"] = "/cgi-bin/app", ["PATH_INFO"] = "/headers", ["QUERY_STRING"] = "x=1", ["HTTP_HOST"] = "cgi.test", ["REMOTE_ADDR"] = "10.1.2.3", ["REMOTE_USER"] = "alice", ["AUTH_TYPE"] = "Basic" },
            []);
        Assert.Equal(0, headers.ExitCode);
        var json = headers.Output[(headers.Output.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..];
        Assert.Equal(
            """{"method":"GET","scheme":"http","host":"cgi.test","pathBase":"/cgi-bin/app","path":"/headers","queryString":"?x=1","headers":{"host":"cgi.test"},"remoteAddress":"10.1.2.3","user":"alice"}""",
            json);
    }

    private static async Task<Dictionary<string, Answer>> SendAllAsync(Uri baseUri)
    {
        using var client = new HttpClient(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false, AutomaticDecompression = DecompressionMethods.None })
        {
            BaseAddress = baseUri,
            Timeout = TimeSpan.FromSeconds(60),
        };
        var answers = new Dictionary<string, Answer>();
        foreach (var exchange in SampleExchanges.All)
        {
            answers[exchange.Name] = await exchange.SendAsync(client);
        }

        return answers;
    }

    private static void AssertHeadersBasics(Answer answer)
    {
        using var document = JsonDocument.Parse(answer.Body);
        var root = document.RootElement;
        Assert.Equal(
            ("GET", "http", "app.test", "", "/headers", "?a=1&b=%2F&c=%C3%A9", "one", "127.0.0.1"),
            (root.GetProperty("method").GetString(), root.GetProperty("scheme").GetString(), root.GetProperty("host").GetString(),
             root.GetProperty("pathBase").GetString(), root.GetProperty("path").GetString(), root.GetProperty("queryString").GetString(),
             root.GetProperty("headers").GetProperty("x-custom").GetString(), root.GetProperty("remoteAddress").GetString()));
    }

    /// <summary>Runs the sample as a CGI program: the variables in its environment, the body on standard input (a pipe).</summary>
    private static async Task<(int ExitCode, string Output)> RunCgiAsync(Dictionary<string, string> variables, byte[] stdin)
    {
        var start = new ProcessStartInfo(SampleApp.Executable)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(SampleApp.Executable)!,
        };
        start.Environment["GATEWAY_INTERFACE"] = "CGI/1.1";
        start.Environment["SERVER_PROTOCOL"] = "HTTP/1.1";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (name, value) in variables)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = new MemoryStream();
        var copy = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.BaseStream.WriteAsync(stdin);
        process.StandardInput.Close();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        await copy;
        var log = await stderr;
        Assert.True(process.ExitCode == 0 || log.Length > 0, log);
        return (process.ExitCode, Encoding.UTF8.GetString(stdout.ToArray()));
    }
}
