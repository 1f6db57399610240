using Xunit;

namespace FastCgi.AspNetCore.Tests;

/// <summary>CGI variables to PathBase, Path, QueryString and RawTarget, as each web server sends them.</summary>
public sealed class RequestMappingTests
{
    [Theory]
    // nginx and Apache: the whole path in SCRIPT_NAME, no PATH_INFO: the application owns it all.
    [InlineData("/a/b%2Fc/caf%C3%A9?x=%20", "/a/b/c/café", null, null, "", "/a/b%2Fc/café", "?x=%20")]
    // lighttpd with fix-root-scriptname, and CGI: SCRIPT_NAME is the mount point.
    [InlineData("/app/items/1?q", "/app", "/items/1", "q", "/app", "/items/1", "?q")]
    [InlineData("/app/", "/app", "/", "", "/app", "/", "")]
    // Dot segments removed after decoding (RFC 3986 5.2.4), as Kestrel does.
    [InlineData("/a/./b/../c", "/a/c", null, null, "", "/a/c", "")]
    [InlineData("/a/%2E%2E/c", "/c", null, null, "", "/c", "")]
    // Absolute form (RFC 9112 3.2.2).
    [InlineData("http://example.com/x?y=1", "/x", null, null, "", "/x", "?y=1")]
    // Not UTF-8: kept as sent.
    [InlineData("/bad%FF", "/bad", null, null, "", "/bad%FF", "")]
    public void Target(string requestUri, string scriptName, string? pathInfo, string? query, string pathBase, string path, string queryString)
    {
        var environ = new Dictionary<string, string> { ["REQUEST_URI"] = requestUri, ["SCRIPT_NAME"] = scriptName };
        if (pathInfo is not null)
        {
            environ["PATH_INFO"] = pathInfo;
        }

        if (query is not null)
        {
            environ["QUERY_STRING"] = query;
        }

        Assert.Equal((pathBase, path, queryString, requestUri), CgiRequestMapping.Target(environ));
    }

    [Fact]
    public void Without_REQUEST_URI_the_target_is_rebuilt()
    {
        var environ = new Dictionary<string, string> { ["SCRIPT_NAME"] = "/cgi-bin/app", ["PATH_INFO"] = "/a b", ["QUERY_STRING"] = "x=1" };
        Assert.Equal(("/cgi-bin/app", "/a b", "?x=1", "/cgi-bin/app/a%20b?x=1"), CgiRequestMapping.Target(environ));
    }

    [Fact]
    public void Headers_come_from_HTTP_variables_and_the_content_ones()
    {
        var headers = CgiRequestMapping.Headers(new Dictionary<string, string>
        {
            ["HTTP_USER_AGENT"] = "curl",
            ["HTTP_X_FORWARDED_FOR"] = "10.0.0.1",
            ["CONTENT_TYPE"] = "text/plain",
            ["CONTENT_LENGTH"] = "",
            ["SERVER_NAME"] = "example.com",
            ["SERVER_PORT"] = "8080",
            ["REMOTE_ADDR"] = "127.0.0.1",
        });
        Assert.Equal(
            ["Content-Type: text/plain", "Host: example.com:8080", "User-Agent: curl", "X-Forwarded-For: 10.0.0.1"],
            headers.Select(header => header.Key + ": " + header.Value).Order(StringComparer.Ordinal));
        Assert.Equal(
            ("https", "http", "https"),
            (CgiRequestMapping.Scheme(new Dictionary<string, string> { ["HTTPS"] = "on" }),
             CgiRequestMapping.Scheme(new Dictionary<string, string>()),
             CgiRequestMapping.Scheme(new Dictionary<string, string> { ["REQUEST_SCHEME"] = "HTTPS" })));
    }
}
