using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using FastCgi.IntegrationTests.Support;
using FastCgi.Testing;
using Xunit;

namespace FastCgi.IntegrationTests.EndToEnd;

/// <summary>
/// The echo sample run as a real CGI program (fd 0 is a pipe, so <c>FastCgiServer.Run</c> falls back to CGI):
/// stdout checked byte for byte.
/// </summary>
public sealed class CgiEndToEndTests
{
    [Fact]
    public async Task Get_hello()
    {
        var result = await CgiRun.RunAsync(CgiVariables.Environ("/cgi-bin/echo/hello"));
        Assert.Equal("Content-Type: text/plain\r\n\r\nHello, world!\n", result.Text);
        Assert.Equal("", result.Stderr);
        Assert.Equal(0, result.ExitCode);
    }

    [Theory]
    [InlineData("to=/new/place", "Location: /new/place\r\n\r\n")]
    [InlineData("to=/new/place&code=301", "Status: 301 Moved Permanently\r\nContent-Type: text/html; charset=utf-8\r\nLocation: /new/place\r\n\r\n")]
    [InlineData("to=/home&cookie=session", "Status: 302 Found\r\nContent-Type: text/html; charset=utf-8\r\nLocation: /home\r\nSet-Cookie: session=1\r\n\r\n")]
    [InlineData("to=http://example.com/", "Status: 302 Found\r\nContent-Type: text/html; charset=utf-8\r\nLocation: http://example.com/\r\n\r\n")]
    public async Task Redirect_is_local_only_when_the_Location_path_comes_alone(string query, string expected)
    {
        // RFC 3875 section 6.2.2: a local redirect is a Location path and nothing else; with a status, a cookie or
        // an absolute URL it is a client redirect (6.2.3, 6.2.4), passed on as written, 302 unless a status was set.
        var result = await CgiRun.RunAsync(CgiVariables.Environ("/cgi-bin/echo/redirect?" + query));
        Assert.Equal(expected, result.Text);
        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task Get_echo_with_a_query()
    {
        var environ = CgiVariables.Environ("/echo?a=1&tags*=x&tags*=y&flag&sp=a+b%21");
        environ.Clear();
        environ["REQUEST_METHOD"] = "GET";
        environ["SCRIPT_NAME"] = "/cgi-bin/echo";
        environ["PATH_INFO"] = "/echo";
        environ["QUERY_STRING"] = "a=1&tags*=x&tags*=y&flag&sp=a+b%21";
        var result = await CgiRun.RunAsync(environ);
        Assert.Equal(
            "Content-Type: application/json\r\n\r\n"
            + "{\"method\":\"GET\",\"params\":{\"a\":\"1\",\"tags*\":[\"x\",\"y\"],\"flag\":null,\"sp\":\"a b!\"},\"cookies\":{},"
            + "\"environ\":{\"PATH_INFO\":\"/echo\",\"QUERY_STRING\":\"a=1\\u0026tags*=x\\u0026tags*=y\\u0026flag\\u0026sp=a\\u002Bb%21\",\"REQUEST_METHOD\":\"GET\",\"SCRIPT_NAME\":\"/cgi-bin/echo\"}}",
            WithoutProcessVariables(result.Text));
    }

    [Fact]
    public async Task Post_url_encoded()
    {
        var body = "name=J%C3%B6rg&tags*=1&tags*=2&x!=ignored"u8.ToArray();
        var environ = CgiVariables.Environ("/echo?q=1", "POST", "application/x-www-form-urlencoded", body.Length, new Dictionary<string, string> { ["HTTP_COOKIE"] = "session=abc; theme=dark" });
        var result = await CgiRun.RunAsync(environ, body);
        Assert.StartsWith(
            "Content-Type: application/json\r\n\r\n{\"method\":\"POST\",\"params\":{\"q\":\"1\",\"name\":\"J\\u00F6rg\",\"tags*\":[\"1\",\"2\"]},\"cookies\":{\"session\":\"abc\",\"theme\":\"dark\"},",
            result.Text,
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_multipart_with_files()
    {
        var file = new byte[300_000];
        new Random(7).NextBytes(file);
        var boundary = "----boundary7MA4YWxkTrZu0gW";
        var body = new MemoryStream();
        void Text(string s) => body.Write(Encoding.UTF8.GetBytes(s));
        Text($"--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nMy upload\r\n");
        Text($"--{boundary}\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"data.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n");
        body.Write(file);
        Text($"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"note!\"\r\n\r\nwhole part\r\n--{boundary}--\r\n");
        var bytes = body.ToArray();
        var environ = CgiVariables.Environ("/echo", "POST", $"multipart/form-data; boundary={boundary}", bytes.Length);
        var result = await CgiRun.RunAsync(environ, bytes);
        var sha = Convert.ToHexStringLower(SHA256.HashData(file));
        Assert.StartsWith(
            "Content-Type: application/json\r\n\r\n{\"method\":\"POST\",\"params\":{\"title\":\"My upload\","
            + $"\"doc\":{{\"filename\":\"data.bin\",\"length\":300000,\"sha256\":\"{sha}\"}},"
            + $"\"note!\":{{\"filename\":null,\"length\":10,\"sha256\":\"{Convert.ToHexStringLower(SHA256.HashData("whole part"u8))}\"}}}},",
            result.Text,
            StringComparison.Ordinal);
        Assert.Equal("", result.Stderr);
    }

    [Fact]
    public async Task Upload_file_name_comes_back_exactly_as_the_browser_meant_it()
    {
        // As a browser sends C:\Users\me\"quoted"<CR><LF>.txt: backslashes as they are, " CR LF as %22 %0D %0A.
        const string boundary = "----boundaryQx7";
        var body = Encoding.UTF8.GetBytes(
            $"--{boundary}\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"C:\\Users\\me\\%22quoted%22%0D%0A.txt\"\r\n"
            + $"Content-Type: text/plain\r\n\r\nhi\r\n--{boundary}--\r\n");
        var environ = CgiVariables.Environ("/echo", "POST", $"multipart/form-data; boundary={boundary}", body.Length);

        var result = await CgiRun.RunAsync(environ, body);

        using var json = System.Text.Json.JsonDocument.Parse(result.Text.Split("\r\n\r\n", 2)[1]);
        Assert.Equal("C:\\Users\\me\\\"quoted\"\r\n.txt", json.RootElement.GetProperty("params").GetProperty("doc").GetProperty("filename").GetString());
        Assert.Equal("", result.Stderr);
        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task Error_is_500_with_the_generic_page_and_the_exception_on_stderr()
    {
        var result = await CgiRun.RunAsync(CgiVariables.Environ("/error"));
        Assert.Equal(
            "Status: 500 Internal Server Error\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
            + "<!DOCTYPE html>\n<html><head><title>500 Internal Server Error</title></head>\n"
            + "<body><h1>500 Internal Server Error</h1>\n<p>The server could not complete the request.</p>\n</body></html>\n",
            result.Text);
        Assert.StartsWith("System.InvalidOperationException: echo: the error action failed on purpose", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task Gzip_when_accepted()
    {
        var accepted = await CgiRun.RunAsync(CgiVariables.Environ("/hello", extra: new Dictionary<string, string> { ["HTTP_ACCEPT_ENCODING"] = "br, gzip" }), null, "--gzip");
        var head = "Content-Type: text/plain\r\nVary: Accept-Encoding\r\nContent-Encoding: gzip\r\n\r\n";
        Assert.Equal(head, Encoding.ASCII.GetString(accepted.Stdout, 0, head.Length));
        using var gzip = new GZipStream(new MemoryStream(accepted.Stdout[head.Length..]), CompressionMode.Decompress);
        Assert.Equal("Hello, world!\n", new StreamReader(gzip).ReadToEnd());

        var refused = await CgiRun.RunAsync(CgiVariables.Environ("/hello", extra: new Dictionary<string, string> { ["HTTP_ACCEPT_ENCODING"] = "gzip;q=0, br" }), null, "--gzip");
        Assert.Equal("Content-Type: text/plain\r\nVary: Accept-Encoding\r\n\r\nHello, world!\n", refused.Text);
    }

    [Fact]
    public async Task Upload_hashes_the_body_from_stdin()
    {
        var body = new byte[1_000_000];
        new Random(3).NextBytes(body);
        var result = await CgiRun.RunAsync(CgiVariables.Environ("/upload", "POST", "application/octet-stream", body.Length), body);
        Assert.Equal($"Content-Type: application/json\r\n\r\n{{\"length\": 1000000, \"sha256\": \"{Convert.ToHexStringLower(SHA256.HashData(body))}\"}}", result.Text);
    }

    [Fact]
    public async Task Oversized_form_is_413_and_a_malformed_one_400()
    {
        var big = Encoding.ASCII.GetBytes("a=" + new string('x', 5 * 1024 * 1024));
        var tooLarge = await CgiRun.RunAsync(CgiVariables.Environ("/echo", "POST", "application/x-www-form-urlencoded", big.Length), big);
        Assert.StartsWith("Status: 413 Content Too Large\r\n", tooLarge.Text, StringComparison.Ordinal);
        Assert.StartsWith("Request rejected (413): ", tooLarge.Stderr, StringComparison.Ordinal);

        var unclosed = "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nno end"u8.ToArray();
        var malformed = await CgiRun.RunAsync(CgiVariables.Environ("/echo", "POST", "multipart/form-data; boundary=b", unclosed.Length), unclosed);
        Assert.StartsWith("Status: 400 Bad Request\r\n", malformed.Text, StringComparison.Ordinal);
    }

    /// <summary>Drops the variables the test process itself sets (PATH, HOME, DOTNET_ROOT) from the echoed environ.</summary>
    private static string WithoutProcessVariables(string json) => System.Text.RegularExpressions.Regex.Replace(
        json, "\"(DOTNET_ROOT|HOME|PATH)\":\"[^\"]*\",?", "").Replace(",}", "}", StringComparison.Ordinal);

    [Fact]
    public async Task Help_lists_the_options_and_exits_0()
    {
        var result = await CgiRun.RunAsync(new Dictionary<string, string>(), null, "--help");
        Assert.StartsWith("Usage: Echo [options]\n", result.Text, StringComparison.Ordinal);
        Assert.Contains("\n  --listen ADDRESS ", result.Text, StringComparison.Ordinal);
        Assert.Equal(("", 0), (result.Stderr, result.ExitCode));
    }

    [Theory]
    [InlineData("--bogus", "Echo: Unknown option '--bogus'. Try --help.\n")]
    [InlineData("--threading-level", "Echo: --threading-level needs a value. Try --help.\n")]
    public async Task A_wrong_option_is_one_line_on_stderr_and_exit_code_2(string arg, string stderr)
    {
        var result = await CgiRun.RunAsync(new Dictionary<string, string>(), null, arg);
        Assert.Equal(("", stderr, 2), (result.Text, result.Stderr, result.ExitCode));
    }

    [Theory]
    [InlineData("--listen", "127.0.0.1:1")]
    [InlineData("--help")]
    [InlineData("--max-request-body-bytes", "0")]
    [InlineData("search", "words")]
    public async Task Run_as_CGI_the_command_line_is_the_clients_query_words_not_options(params string[] words)
    {
        // RFC 3875 section 4.4: a query without '=' reaches the program as its arguments (Apache's mod_cgi does it).
        var result = await CgiRun.RunAsync(CgiVariables.Environ("/cgi-bin/echo/hello?" + string.Join('+', words)), null, words);
        Assert.Equal("Content-Type: text/plain\r\n\r\nHello, world!\n", result.Text);
        Assert.Equal(("", 0), (result.Stderr, result.ExitCode));
    }

    [Fact]
    public async Task Run_as_CGI_a_wrappers_options_before_the_query_words_are_read()
    {
        // A wrapper script's "exec Echo --gzip \"$@\"" under Apache, for /hello?search: Echo --gzip search.
        var environ = CgiVariables.Environ("/hello?search", extra: new Dictionary<string, string> { ["HTTP_ACCEPT_ENCODING"] = "gzip" });
        var result = await CgiRun.RunAsync(environ, null, "--gzip", "search");
        Assert.StartsWith("Content-Type: text/plain\r\nVary: Accept-Encoding\r\nContent-Encoding: gzip\r\n\r\n", result.Text, StringComparison.Ordinal);
        Assert.Equal(("", 0), (result.Stderr, result.ExitCode));
    }
}
