using System.Text;
using FastCgi.IntegrationTests.Support;
using FastCgi.Testing;
using Xunit;

namespace FastCgi.IntegrationTests.Interop;

/// <summary>
/// libfcgi's cgi-fcgi as the web server: a CGI environment and a body on stdin become one FastCGI request to the echo
/// sample (spawn-fcgi, threading level 2); the CGI response comes back on stdout, FCGI_STDERR on stderr.
/// </summary>
public sealed class CgiFcgiTests : IAsyncLifetime
{
    private EchoServer? _app;

    public async ValueTask InitializeAsync() => _app = await EchoServer.StartAsync(["--threading-level", "2"]);

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    [Fact]
    public async Task Hello()
    {
        var result = await RunAsync(CgiVariables.Environ("/app/hello"));
        Assert.Equal("Content-Type: text/plain\r\n\r\nHello, world!\n", result.Text);
        Assert.Equal("", result.Stderr);
        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task Echo_with_a_multipart_upload()
    {
        var file = new byte[200_000];
        new Random(11).NextBytes(file);
        var body = new MemoryStream();
        body.Write(Encoding.ASCII.GetBytes("--b0undary\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nMy upload\r\n"));
        body.Write(Encoding.ASCII.GetBytes("--b0undary\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"data.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n"));
        body.Write(file);
        body.Write(Encoding.ASCII.GetBytes("\r\n--b0undary--\r\n"));
        var bytes = body.ToArray();
        var result = await RunAsync(CgiVariables.Environ("/app/echo?q=1", "POST", "multipart/form-data; boundary=b0undary", bytes.Length), bytes);
        Assert.StartsWith(
            "Content-Type: application/json\r\n\r\n{\"method\":\"POST\",\"params\":{\"q\":\"1\",\"title\":\"My upload\","
            + $"\"doc\":{{\"filename\":\"data.bin\",\"length\":200000,\"sha256\":\"{Http.Sha256(file)}\"}}}},",
            result.Text,
            StringComparison.Ordinal);
        Assert.Equal("", result.Stderr);
    }

    [Fact]
    public async Task Unknown_action_is_404()
    {
        var result = await RunAsync(CgiVariables.Environ("/app/nothing-here"));
        Assert.Equal("Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nnot found\n", result.Text);
    }

    [Fact]
    public async Task Error_is_500_with_the_message_on_stderr()
    {
        var result = await RunAsync(CgiVariables.Environ("/app/error"));
        Assert.Equal("Status: 500 Internal Server Error\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + Http.GenericErrorPage, result.Text);
        Assert.StartsWith("System.InvalidOperationException: echo: the error action failed on purpose", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fifty_concurrent_runs()
    {
        var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => RunAsync(CgiVariables.Environ($"/app/slow?ms={i * 2}"))));
        for (var i = 0; i < 50; i++)
        {
            Assert.Equal($"Content-Type: text/plain\r\n\r\nslept {i * 2}\n", results[i].Text);
            Assert.Equal(0, results[i].ExitCode);
        }
    }

    [Fact]
    public async Task A_9000_byte_cookie_crosses_cgi_fcgis_8_KiB_params_records()
    {
        var cookie = Letters(9000 - "big=".Length);
        var environ = CgiVariables.Environ("/app/echo", extra: new Dictionary<string, string> { ["HTTP_COOKIE"] = "big=" + cookie });

        var result = await RunAsync(environ);

        Assert.Equal(ExpectedEcho(environ, new Dictionary<string, string> { ["big"] = cookie }), result.Text);
        Assert.Equal("", result.Stderr);
        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task A_100_KiB_value_crosses_cgi_fcgis_8_KiB_params_records()
    {
        var environ = CgiVariables.Environ("/app/echo", extra: new Dictionary<string, string> { ["HTTP_X_BIG"] = Letters(100 * 1024) });

        var result = await RunAsync(environ);

        Assert.Equal(ExpectedEcho(environ, new Dictionary<string, string>()), result.Text);
        Assert.Equal("", result.Stderr);
        Assert.Equal(0, result.ExitCode);
    }

    /// <summary>
    /// What /echo answers to a GET without a query: its environ is everything cgi-fcgi had in its environment,
    /// which is <paramref name="environ"/> plus what <see cref="CgiRun"/> keeps of the test's own.
    /// </summary>
    private static string ExpectedEcho(IDictionary<string, string> environ, IDictionary<string, string> cookies)
    {
        var all = new Dictionary<string, string>(CgiRun.InheritedEnvironment(), StringComparer.Ordinal);
        foreach (var (name, value) in environ)
        {
            all[name] = value;
        }

        var output = new System.Buffers.ArrayBufferWriter<byte>();
        using (var json = new System.Text.Json.Utf8JsonWriter(output))
        {
            json.WriteStartObject();
            json.WriteString("method", "GET");
            json.WriteStartObject("params");
            json.WriteEndObject();
            json.WriteStartObject("cookies");
            foreach (var (name, value) in cookies)
            {
                json.WriteString(name, value);
            }

            json.WriteEndObject();
            json.WriteStartObject("environ");
            foreach (var (name, value) in all.OrderBy(pair => pair.Key, StringComparer.Ordinal))
            {
                json.WriteString(name, value);
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        return "Content-Type: application/json\r\n\r\n" + Encoding.UTF8.GetString(output.WrittenSpan);
    }

    private static string Letters(int length) => string.Concat(Enumerable.Range(0, length).Select(i => (char)('a' + (i % 26))));

    private Task<CgiResult> RunAsync(IDictionary<string, string> environ, byte[]? body = null) =>
        CgiRun.RunProgramAsync(InstalledTools.Require("cgi-fcgi", "libfcgi-bin"), ["-bind", "-connect", _app!.SocketPath], environ, body);
}
