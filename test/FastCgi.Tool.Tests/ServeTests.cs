using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using FastCgi.Tool.Tests.Support;
using Xunit;

namespace FastCgi.Tool.Tests;

/// <summary><c>fcgi serve</c> in front of the echo sample (spawned on fd 0), driven with real HTTP.</summary>
public sealed class ServeTests
{
    private static HttpClient Client(ServeProcess serve) => new() { BaseAddress = new Uri(serve.BaseUrl), Timeout = TimeSpan.FromSeconds(120) };

    [Fact]
    public async Task Hello_and_a_url_encoded_form_post_reach_the_application()
    {
        await using var serve = await ServeProcess.StartAsync("--spawn", Paths.Echo);
        using var http = Client(serve);
        using var hello = await http.GetAsync("hello");
        Assert.Equal(HttpStatusCode.OK, hello.StatusCode);
        Assert.Equal("text/plain", hello.Content.Headers.ContentType!.ToString());
        Assert.Equal("Hello, world!\n", await hello.Content.ReadAsStringAsync());

        using var form = new FormUrlEncodedContent([new("name", "Ada Lovelace"), new("tags*", "a"), new("tags*", "b")]);
        using var echo = await http.PostAsync("echo?x=1", form);
        var json = await echo.Content.ReadAsStringAsync();
        Assert.StartsWith("{\"method\":\"POST\",\"params\":{\"x\":\"1\",\"name\":\"Ada Lovelace\",\"tags*\":[\"a\",\"b\"]},\"cookies\":{},\"environ\":{", json, StringComparison.Ordinal);
        Assert.Contains("\"CONTENT_TYPE\":\"application/x-www-form-urlencoded\"", json, StringComparison.Ordinal);
        Assert.Contains("\"REQUEST_URI\":\"/echo?x=1\"", json, StringComparison.Ordinal);
        Assert.Contains("\"SCRIPT_NAME\":\"/echo\"", json, StringComparison.Ordinal);
        Assert.Contains("\"SERVER_PROTOCOL\":\"HTTP/1.1\"", json, StringComparison.Ordinal);
        Assert.Contains("\"REMOTE_ADDR\":\"127.0.0.1\"", json, StringComparison.Ordinal);
        Assert.Contains($"\"HTTP_HOST\":\"{new Uri(serve.BaseUrl).Authority}\"", json, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_file_upload_arrives_with_its_hash()
    {
        await using var serve = await ServeProcess.StartAsync("--spawn", Paths.Echo);
        using var http = Client(serve);
        var data = new byte[3_000_000];
        new Random(11).NextBytes(data);
        using var multipart = new MultipartFormDataContent();
        using var file = new ByteArrayContent(data);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        multipart.Add(file, "file", "data.bin");
        using var response = await http.PostAsync("echo", multipart);
        var json = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith($"{{\"method\":\"POST\",\"params\":{{\"file\":{{\"filename\":\"data.bin\",\"length\":3000000,\"sha256\":\"{Convert.ToHexStringLower(SHA256.HashData(data))}\"}}}}", json, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_100_MB_download_streams_whole()
    {
        const long Bytes = 100L * 1024 * 1024;
        await using var serve = await ServeProcess.StartAsync("--spawn", Paths.Echo);
        using var http = Client(serve);
        using var response = await http.GetAsync($"big?bytes={Bytes}", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var body = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[1 << 16];
        long total = 0;
        var pattern = "0123456789abcdef"u8.ToArray();
        int read;
        while ((read = await body.ReadAsync(buffer)) > 0)
        {
            for (var i = 0; i < read; i++)
            {
                Assert.True(buffer[i] == pattern[(int)((total + i) % 16)], $"byte {total + i} differs");
            }

            total += read;
        }

        Assert.Equal(Bytes, total);
    }

    [Fact]
    public async Task A_static_file_is_served_from_the_folder_and_other_paths_go_to_the_application()
    {
        var folder = Directory.CreateTempSubdirectory("fcgi-tool-static-").FullName;
        await File.WriteAllTextAsync(Path.Combine(folder, "style.css"), "body { color: teal; }\n");
        try
        {
            await using var serve = await ServeProcess.StartAsync("--spawn", Paths.Echo, "--static", folder);
            using var http = Client(serve);
            using var css = await http.GetAsync("style.css");
            Assert.Equal(HttpStatusCode.OK, css.StatusCode);
            Assert.Equal("text/css", css.Content.Headers.ContentType!.MediaType);
            Assert.Equal("body { color: teal; }\n", await css.Content.ReadAsStringAsync());
            Assert.DoesNotContain("style.css: forwarded", serve.Log, StringComparison.Ordinal);

            using var echo = await http.GetAsync("echo");
            Assert.Contains($"\"DOCUMENT_ROOT\":\"{folder}\"", await echo.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task The_authorizer_denies_and_grants_with_its_variables()
    {
        // The echo sample plays the authorizer too: 'Bearer letmein' is granted with AUTH_USER=alice.
        await using var serve = await ServeProcess.StartAsync("--spawn", Paths.Echo, "--authorizer", Paths.Echo);
        using var http = Client(serve);
        using var denied = await http.GetAsync("echo");
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        Assert.Equal("forbidden\n", await denied.Content.ReadAsStringAsync());

        using var request = new HttpRequestMessage(HttpMethod.Get, "echo");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "letmein");
        using var granted = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, granted.StatusCode);
        var json = await granted.Content.ReadAsStringAsync();
        Assert.Contains("\"AUTH_USER\":\"alice\"", json, StringComparison.Ordinal);
        Assert.Contains("\"HTTP_AUTHORIZATION\":\"Bearer letmein\"", json, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sequential_requests_share_one_kept_connection()
    {
        await using var app = CountingApp.Start();
        await using var serve = await ServeProcess.StartAsync(app.Address);
        using var http = Client(serve);
        for (var i = 1; i <= 5; i++)
        {
            Assert.Equal($"connection 1 request {i}\n", await http.GetStringAsync($"hello?i={i}"));
        }

        // A request with a body sent whole leaves the connection fit for the next one too.
        using var post = await http.PostAsync("upload", new ByteArrayContent(new byte[200_000]));
        Assert.Equal("connection 1 request 6\n", await post.Content.ReadAsStringAsync());
        Assert.Equal("connection 1 request 7\n", await http.GetStringAsync("hello"));
        Assert.Equal(1, app.Accepted);
        Assert.Contains("#1 Responder /hello?i=1: forwarded on a new connection", serve.Log, StringComparison.Ordinal);
        Assert.Contains("#2 Responder /hello?i=2: forwarded on a kept connection", serve.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Concurrent_requests_open_connections_and_keep_them_for_later_ones()
    {
        await using var app = CountingApp.Start();
        await using var serve = await ServeProcess.StartAsync(app.Address);
        using var http = Client(serve);
        var first = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => http.GetStringAsync($"hello?i={i}")));
        var opened = app.Accepted;
        Assert.InRange(opened, 1, 4);
        Assert.All(first, body => Assert.Matches(@"^connection [1-4] request \d+\n$", body));

        // Every later request, one at a time, finds a kept connection: no new one is opened.
        for (var i = 0; i < 8; i++)
        {
            Assert.Matches(@"^connection [1-4] request \d+\n$", await http.GetStringAsync("hello"));
        }

        Assert.Equal(opened, app.Accepted);
    }

    [Fact]
    public async Task A_request_refused_on_a_kept_connection_is_sent_again_on_a_new_one_unless_it_has_a_body()
    {
        await using var app = CountingApp.Start(refuseAfter: 2);
        await using var serve = await ServeProcess.StartAsync(app.Address);
        using var http = Client(serve);
        Assert.Equal("connection 1 request 1\n", await http.GetStringAsync("hello"));
        Assert.Equal("connection 1 request 2\n", await http.GetStringAsync("hello"));
        Assert.Equal("connection 2 request 1\n", await http.GetStringAsync("hello?third"));
        Assert.Contains("#3 /hello?third: nothing came back on the kept connection; sending it again on a new one", serve.Log, StringComparison.Ordinal);
        Assert.Equal("connection 2 request 2\n", await http.GetStringAsync("hello"));

        // A body is read as it is sent: it cannot be sent twice, so the refusal reaches the client.
        using var post = await http.PostAsync("upload", new ByteArrayContent(new byte[1000]));
        Assert.Equal(HttpStatusCode.BadGateway, post.StatusCode);
        Assert.Equal(2, app.Accepted);
    }

    [Fact]
    public async Task A_client_disconnect_reaches_the_application_as_an_abort()
    {
        await using var serve = await ServeProcess.StartAsync("--spawn", Paths.Echo);
        using var http = Client(serve);
        using var cancel = new CancellationTokenSource();

        // The application is up and warm first, so the abort's answer is not held up by its start.
        Assert.Equal("Hello, world!\n", await http.GetStringAsync("hello"));

        // slow?ms=60000 only ends early when its request is aborted.
        var request = http.GetAsync("slow?ms=60000", cancel.Token);
        await serve.WaitForLineAsync(l => l.Contains("/slow?ms=60000: forwarded", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);

        var line = await serve.WaitForLineAsync(l => l.Contains("/slow?ms=60000: aborted", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        Assert.True(
            Regex.IsMatch(line, @"aborted; the application ended it \d+ ms after FCGI_ABORT_REQUEST \(appStatus 0\)$"),
            $"The application did not end the aborted request; fcgi serve's log:\n{serve.Log}");
        Assert.Contains("/slow?ms=60000: the client went away; sending FCGI_ABORT_REQUEST", serve.Log, StringComparison.Ordinal);

        // The aborted request's connection is not kept: the next request opens a new one.
        Assert.Contains("#2 Responder /slow?ms=60000: forwarded on a kept connection", serve.Log, StringComparison.Ordinal);
        Assert.Equal("Hello, world!\n", await http.GetStringAsync("hello?after=abort"));
        Assert.Contains("#3 Responder /hello?after=abort: forwarded on a new connection", serve.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_dead_application_is_started_again()
    {
        await using var serve = await ServeProcess.StartAsync("--spawn", Paths.Echo + " --max-requests 1");
        using var http = Client(serve);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("Hello, world!\n", await http.GetStringAsync("hello"));
        }

        Assert.Equal(2, serve.Log.Split('\n').Count(l => l.Contains("exited with status 0; restarting it", StringComparison.Ordinal)));
    }
}
