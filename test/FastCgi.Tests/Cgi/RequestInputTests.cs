using System.Text;
using FastCgi.Cgi;
using FastCgi.Testing;
using FastCgi.Tests.Support;
using Xunit;

namespace FastCgi.Tests.Cgi;

/// <summary>The reading side of <see cref="Request"/>: Params, Cookies, encodings, SetCookie, the debug error page.</summary>
public sealed class RequestInputTests
{
    [Fact]
    public void Params_parse_once_from_query_and_body()
    {
        var body = "b=2&tags*=y"u8.ToArray();
        using var request = new RecordingRequest(
            CgiVariables.Of(("REQUEST_METHOD", "POST"), ("QUERY_STRING", "a=1&tags*=x&flag"), ("CONTENT_TYPE", "application/x-www-form-urlencoded"), ("CONTENT_LENGTH", "11")),
            body);
        Assert.Same(request.Params, request.Params);
        Assert.Equal("1", request.Params.GetText("a"));
        Assert.Equal("2", request.Params.GetText("b"));
        Assert.Equal(["x", "y"], request.Params.GetTexts("tags*"));
        Assert.Equal(FormValueKind.Null, request.Params["flag"].Kind);
    }

    [Fact]
    public async Task ReadFormAsync_fills_Params()
    {
        using var request = new RecordingRequest(CgiVariables.Of(("QUERY_STRING", "x=%C3%A9")));
        var form = await request.ReadFormAsync(TestContext.Current.CancellationToken);
        Assert.Same(form, request.Params);
        Assert.Equal("é", form.GetText("x"));
    }

    [Fact]
    public async Task A_url_encoded_form_over_the_field_limit_fails_again_on_every_access()
    {
        var body = Encoding.ASCII.GetBytes(string.Join('&', Enumerable.Range(0, 1100).Select(i => $"f{i}=v")));
        using var request = Post("q=1", "application/x-www-form-urlencoded", body);

        var first = Assert.Throws<RequestRejectedException>(() => request.Params);
        var second = Assert.Throws<RequestRejectedException>(() => request.Params);
        var third = await Assert.ThrowsAsync<RequestRejectedException>(() => request.ReadFormAsync(TestContext.Current.CancellationToken).AsTask());

        Assert.Equal(413, first.StatusCode);
        Assert.Contains("MaxFormFields", first.Message, StringComparison.Ordinal);
        AssertSameRejection(first, second);
        AssertSameRejection(first, third);
    }

    [Fact]
    public void A_multipart_form_over_the_part_limit_fails_again_on_every_access()
    {
        var parts = string.Concat(Enumerable.Range(0, 1100).Select(i => $"--b\r\nContent-Disposition: form-data; name=\"f{i}\"\r\n\r\nv\r\n"));
        using var request = Post("q=1", "multipart/form-data; boundary=b", Encoding.ASCII.GetBytes(parts + "--b--\r\n"));

        var first = Assert.Throws<RequestRejectedException>(() => request.Params);
        var second = Assert.Throws<RequestRejectedException>(() => request.Params);

        Assert.Equal(413, first.StatusCode);
        Assert.Contains("MaxFormFields", first.Message, StringComparison.Ordinal);
        AssertSameRejection(first, second);
    }

    [Fact]
    public void A_malformed_multipart_form_fails_again_with_the_same_400()
    {
        var body = "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue that never ends"u8.ToArray();
        using var request = Post("q=1", "multipart/form-data; boundary=b", body);

        var first = Assert.Throws<RequestRejectedException>(() => request.Params);
        var second = Assert.Throws<RequestRejectedException>(() => request.Params);

        Assert.Equal(400, first.StatusCode);
        Assert.Equal("Malformed multipart body: no closing boundary.", first.Message);
        AssertSameRejection(first, second);
        Assert.Throws<SequencingException>(() => request.FormEncoding = Encoding.Latin1);
    }

    [Fact]
    public void A_malformed_multipart_content_type_fails_again_with_the_same_400()
    {
        using var request = Post("q=1", "multipart/form-data", "--b\r\n"u8.ToArray());

        var first = Assert.Throws<RequestRejectedException>(() => request.Params);
        var second = Assert.Throws<RequestRejectedException>(() => request.Params);

        Assert.Equal(400, first.StatusCode);
        AssertSameRejection(first, second);
    }

    [Fact]
    public void FormEncoding_decodes_and_is_a_sequencing_error_after_parsing()
    {
        using var request = new RecordingRequest(CgiVariables.Of(("QUERY_STRING", "x=%E9")));
        request.FormEncoding = Encoding.Latin1;
        Assert.Equal("é", request.Params.GetText("x"));
        Assert.Throws<SequencingException>(() => request.FormEncoding = Encoding.UTF8);
    }

    [Fact]
    public void Cookies_come_from_http_cookie()
    {
        using var request = new RecordingRequest(CgiVariables.Of(("HTTP_COOKIE", "a=1; b=two%20words; a=ignored")));
        Assert.Equal(new Dictionary<string, string> { ["a"] = "1", ["b"] = "two words" }, request.Cookies);
        using var none = new RecordingRequest();
        Assert.Empty(none.Cookies);
    }

    [Fact]
    public void SetCookie_adds_a_set_cookie_header_with_every_attribute()
    {
        using var request = new RecordingRequest();
        request.SetCookie("id", "a b;c", new SetCookieOptions
        {
            Expires = new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero),
            MaxAge = TimeSpan.FromHours(1),
            Domain = "example.org",
            Path = "/app",
            Secure = true,
            HttpOnly = true,
            SameSite = CookieSameSite.Lax,
        });
        Assert.Equal("id=a%20b%3Bc; Expires=Wed, 02 Jan 2030 03:04:05 GMT; Max-Age=3600; Domain=example.org; Path=/app; Secure; HttpOnly; SameSite=Lax", request.GetHeader("Set-Cookie"));
    }

    [Fact]
    public async Task The_debug_handler_shows_the_exception_html_encoded()
    {
        using var request = new RecordingRequest();
        await HandlerRunner.RunAsync(new Failing(), request);
        Assert.StartsWith("Status: 500 Internal Server Error\r\nContent-Type: text/html; charset=utf-8\r\n\r\n", request.OutputText, StringComparison.Ordinal);
        Assert.Contains("<pre>System.InvalidOperationException: bad &lt;input&gt; &amp; &quot;more&quot;", request.OutputText, StringComparison.Ordinal);
        Assert.StartsWith("error:System.InvalidOperationException: bad <input> & \"more\"", request.Log.Single(entry => entry.StartsWith("error:", StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    [Fact]
    public void Environ_and_GetEnvironment()
    {
        using var request = new RecordingRequest(CgiVariables.Of(("SERVER_NAME", "example.org")));
        Assert.Equal("example.org", request.GetEnvironment("SERVER_NAME"));
        Assert.Null(request.GetEnvironment("NOPE"));
        Assert.Equal("GET", request.Environ["REQUEST_METHOD"]);
    }

    private static RecordingRequest Post(string query, string contentType, byte[] body) =>
        new(CgiVariables.Of(
                ("REQUEST_METHOD", "POST"),
                ("QUERY_STRING", query),
                ("CONTENT_TYPE", contentType),
                ("CONTENT_LENGTH", body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture))),
            body);

    private static void AssertSameRejection(RequestRejectedException expected, RequestRejectedException actual)
    {
        Assert.Equal(expected.StatusCode, actual.StatusCode);
        Assert.Equal(expected.Message, actual.Message);
    }

    private sealed class Failing : DebugHandler
    {
        public override void Process(Request request) => throw new InvalidOperationException("bad <input> & \"more\"");
    }
}
