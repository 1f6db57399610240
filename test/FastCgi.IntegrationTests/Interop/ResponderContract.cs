using System.Net;
using System.Text;
using System.Text.Json;
using FastCgi.Testing;
using Xunit;

namespace FastCgi.IntegrationTests.Interop;

/// <summary>A real web server in front of the echo sample as a responder, started once for a test class.</summary>
public abstract class ResponderFixture : IAsyncLifetime
{
    /// <summary>The URL the actions are relative to (ends with '/').</summary>
    public Uri AppUri { get; protected set; } = new("http://127.0.0.1/");

    internal abstract WebServerProcess Server { get; }

    /// <summary>Waits until the application's error output with <paramref name="text"/> reached the server's error log.</summary>
    internal virtual Task<string> WaitForErrorTextAsync(string text) => Server.WaitForErrorLogAsync(text);

    public abstract ValueTask InitializeAsync();

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        GC.SuppressFinalize(this);
    }

    /// <summary>Stops the server and the applications the fixture started (each only if it was started).</summary>
    protected abstract ValueTask StopAsync();
}

/// <summary>
/// What every server must do for a responder, the same tests for each: the behaviours of the echo sample
/// (samples/Echo/README.md) through the server, asserted on status, headers and body. A server that does something
/// differently says so by overriding the expectation (and docs/deployment.md has the table).
/// </summary>
public abstract class ResponderContract(ResponderFixture fixture)
{
    protected ResponderFixture Fixture { get; } = fixture;

    /// <summary>
    /// The reason phrase the client sees for <c>status?code=N</c>. The application sends <c>Status: N PHRASE</c> with
    /// the library's phrase ("Client Error", the class's, for 418, which RFC 9110 leaves unassigned); by default the
    /// server passes it on.
    /// </summary>
    protected virtual string ExpectedReason(int code) => ApplicationReason(code);

    protected static string ApplicationReason(int code) => code switch
    {
        201 => "Created",
        404 => "Not Found",
        418 => "Client Error",
        503 => "Service Unavailable",
        _ => throw new ArgumentOutOfRangeException(nameof(code)),
    };

    /// <summary>
    /// The path variables for <c>GET {AppUri}sub/echo?x=1</c> as the server passes them (null: not passed):
    /// SCRIPT_NAME, PATH_INFO, REQUEST_URI.
    /// </summary>
    protected abstract (string? ScriptName, string? PathInfo, string? RequestUri) ExpectedPaths { get; }

    /// <summary>
    /// HTTP_HOST and CONTENT_LENGTH for a GET without a body, as the server passes them (null: not passed);
    /// <paramref name="hostAndPort"/> is the Host header the client sent.
    /// </summary>
    protected abstract (string? Host, string? ContentLength) ExpectedHostAndLength(string hostAndPort);

    /// <summary>Whether the server passes the Authorization header on as HTTP_AUTHORIZATION.</summary>
    protected virtual bool PassesAuthorization => true;

    protected HttpClient Client() => Http.Client(Fixture.AppUri);

    [Fact]
    public async Task Hello()
    {
        using var client = Client();
        using var response = await client.GetAsync("hello", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.ToString());
        Assert.Equal("Hello, world!\n", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Echo_with_a_query()
    {
        using var client = Client();
        using var response = await client.GetAsync("echo?a=1&tags*=x&tags*=y&sp=a+b%21", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await Http.JsonAsync(response);
        Assert.Equal("GET", json.GetProperty("method").GetString());
        Assert.Equal("""{"a":"1","tags*":["x","y"],"sp":"a b!"}""", json.GetProperty("params").GetRawText());
        Assert.Equal("a=1&tags*=x&tags*=y&sp=a+b%21", Http.Text(json.GetProperty("environ"), "QUERY_STRING"));
    }

    [Fact]
    public async Task Path_variables_as_the_server_passes_them()
    {
        using var client = Client();
        client.DefaultRequestHeaders.Authorization = new("Bearer", "letmein");
        using var response = await client.GetAsync("sub/echo?x=1", TestContext.Current.CancellationToken);
        var environ = (await Http.JsonAsync(response)).GetProperty("environ");
        Assert.Equal(ExpectedPaths, (Http.Text(environ, "SCRIPT_NAME"), Http.Text(environ, "PATH_INFO"), Http.Text(environ, "REQUEST_URI")));
        Assert.Equal(PassesAuthorization ? "Bearer letmein" : null, Http.Text(environ, "HTTP_AUTHORIZATION"));
        Assert.Equal("GET", Http.Text(environ, "REQUEST_METHOD"));
        Assert.Equal("x=1", Http.Text(environ, "QUERY_STRING"));
    }

    [Fact]
    public async Task Host_and_content_length_of_a_get()
    {
        using var client = Client();
        using var response = await client.GetAsync("echo", TestContext.Current.CancellationToken);
        var environ = Environ(await Http.JsonAsync(response));
        Assert.Equal(ExpectedHostAndLength(Fixture.AppUri.Authority), (Http.Text(environ, "HTTP_HOST"), Http.Text(environ, "CONTENT_LENGTH")));
    }

    [Fact]
    public async Task Post_url_encoded()
    {
        using var client = Client();
        using var content = new StringContent("name=J%C3%B6rg&tags*=1&tags*=2", Encoding.ASCII, "application/x-www-form-urlencoded");
        using var response = await client.PostAsync("echo?q=1", content, TestContext.Current.CancellationToken);
        var json = await Http.JsonAsync(response);
        Assert.Equal("POST", json.GetProperty("method").GetString());
        Assert.Equal("""{"q":"1","name":"J\u00F6rg","tags*":["1","2"]}""", json.GetProperty("params").GetRawText());
        Assert.Equal("30", Http.Text(json.GetProperty("environ"), "CONTENT_LENGTH"));
    }

    [Fact]
    public async Task Multipart_upload_with_a_file()
    {
        var file = new byte[300_000];
        new Random(7).NextBytes(file);
        using var client = Client();
        using var form = new MultipartFormDataContent("----interop-boundary");
        form.Add(new StringContent("My upload"), "title");
        form.Add(new ByteArrayContent(file), "doc", "data.bin");
        using var response = await client.PostAsync("echo", form, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var parameters = (await Http.JsonAsync(response)).GetProperty("params");
        Assert.Equal("My upload", parameters.GetProperty("title").GetString());
        Assert.Equal($$"""{"filename":"data.bin","length":300000,"sha256":"{{Http.Sha256(file)}}"}""", parameters.GetProperty("doc").GetRawText());
    }

    [Fact]
    public async Task Cookie_is_set_and_read_back()
    {
        using var client = Client();
        using var set = await client.GetAsync("cookie?name=session&value=abc123", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        Assert.Equal(["session=abc123"], set.Headers.GetValues("Set-Cookie"));
        Assert.Equal("ok\n", await set.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));

        using var request = new HttpRequestMessage(HttpMethod.Get, "echo");
        request.Headers.Add("Cookie", "session=abc123; theme=dark");
        using var echo = await client.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal("""{"session":"abc123","theme":"dark"}""", (await Http.JsonAsync(echo)).GetProperty("cookies").GetRawText());
    }

    [Theory]
    [InlineData(201)]
    [InlineData(404)]
    [InlineData(418)]
    [InlineData(503)]
    public async Task Status_code(int code)
    {
        using var client = Client();
        using var response = await client.GetAsync($"status?code={code}", TestContext.Current.CancellationToken);
        Assert.Equal((HttpStatusCode)code, response.StatusCode);
        Assert.Equal(ExpectedReason(code), response.ReasonPhrase);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.ToString());
        Assert.Equal($"status {code}\n", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Unknown_action_is_404()
    {
        using var client = Client();
        using var response = await client.GetAsync("no-such-action", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.ToString());
        Assert.Equal("not found\n", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Error_is_500_and_the_message_reaches_the_servers_error_log()
    {
        using var client = Client();
        using var response = await client.GetAsync("error", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("text/html; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Assert.Equal(Http.GenericErrorPage, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        var log = await Fixture.WaitForErrorTextAsync("echo: the error action failed on purpose");
        Assert.Contains("System.InvalidOperationException: echo: the error action failed on purpose", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Big_download_of_100_MB()
    {
        using var client = Client();
        using var response = await client.GetAsync($"big?bytes={Http.HundredMegabytes}", HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/octet-stream", response.Content.Headers.ContentType?.ToString());
        Assert.Equal(Http.HundredMegabytes, await Http.ReadPatternAsync(response));
    }

    [Fact]
    public async Task Upload_of_100_MB()
    {
        using var client = Client();
        using var content = new GeneratedContent(Http.HundredMegabytes);
        using var response = await client.PostAsync("upload", content, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($"{{\"length\": {Http.HundredMegabytes}, \"sha256\": \"{content.Sha256}\"}}", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Fifty_concurrent_clients()
    {
        using var client = Client();
        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(async i =>
        {
            using var response = await client.GetAsync($"echo?client={i}", TestContext.Current.CancellationToken);
            return (response.StatusCode, Json: await Http.JsonAsync(response));
        }));
        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(HttpStatusCode.OK, responses[i].StatusCode);
            Assert.Equal($$"""{"client":"{{i}}"}""", responses[i].Json.GetProperty("params").GetRawText());
        }
    }

    internal static JsonElement Environ(JsonElement echo) => echo.GetProperty("environ");
}
