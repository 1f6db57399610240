using FastCgi.Testing;
using Microsoft.AspNetCore.Http;
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

        Assert.Equal((pathBase, path, queryString, requestUri), CgiRequestMapping.Target(Variables(environ)));
    }

    [Fact]
    public void Without_REQUEST_URI_the_target_is_rebuilt()
    {
        var environ = new Dictionary<string, string> { ["SCRIPT_NAME"] = "/cgi-bin/app", ["PATH_INFO"] = "/a b", ["QUERY_STRING"] = "x=1" };
        Assert.Equal(("/cgi-bin/app", "/a b", "?x=1", "/cgi-bin/app/a%20b?x=1"), CgiRequestMapping.Target(Variables(environ)));
    }

    [Fact]
    public void Headers_come_from_HTTP_variables_and_the_content_ones()
    {
        var headers = new HeaderDictionary();
        CgiRequestMapping.Headers(Variables(new Dictionary<string, string>
        {
            ["HTTP_USER_AGENT"] = "curl",
            ["HTTP_X_FORWARDED_FOR"] = "10.0.0.1",
            ["CONTENT_TYPE"] = "text/plain",
            ["CONTENT_LENGTH"] = "",
            ["SERVER_NAME"] = "example.com",
            ["SERVER_PORT"] = "8080",
            ["REMOTE_ADDR"] = "127.0.0.1",
        }), headers);
        Assert.Equal(
            ["Content-Type: text/plain", "Host: example.com:8080", "User-Agent: curl", "X-Forwarded-For: 10.0.0.1"],
            headers.Select(header => header.Key + ": " + header.Value).Order(StringComparer.Ordinal));
        Assert.Equal(
            ("https", "http", "https"),
            (CgiRequestMapping.Scheme(Variables(new Dictionary<string, string> { ["HTTPS"] = "on" })),
             CgiRequestMapping.Scheme(Variables(new Dictionary<string, string>())),
             CgiRequestMapping.Scheme(Variables(new Dictionary<string, string> { ["REQUEST_SCHEME"] = "HTTPS" }))));
    }

    [Fact]
    public void PARAMS_are_read_in_one_pass_and_the_last_requests_strings_reused_while_the_bytes_match()
    {
        var longValue = new string('a', 200);
        var variables = new RequestVariables();
        variables.Load(FcgiRecords.NameValues([new("REQUEST_METHOD", "GET"), new("HTTP_HOST", "example.com"), new("HTTP_X_LONG", longValue), new("REQUEST_URI", "/a"), new("HTTP_ACCEPT", "*/*")]));
        var (method, host, accept) = (variables[CgiVariable.RequestMethod], variables.Headers[0].Value, variables.Headers[2].Value);
        Assert.Equal(
            ["GET", "/a", "Host: example.com", "X-Long: " + longValue, "Accept: */*"],
            [variables[CgiVariable.RequestMethod], variables[CgiVariable.RequestUri], .. variables.Headers.ToArray().Select(header => header.Name + ": " + header.Value)]);

        // The next request on the connection: same method and host, another path, a header fewer.
        variables.Load(FcgiRecords.NameValues([new("REQUEST_METHOD", "GET"), new("HTTP_HOST", "example.com"), new("REQUEST_URI", "/b"), new("HTTP_ACCEPT", "*/*")]));
        Assert.Equal(
            ["GET", "/b", "Host: example.com", "Accept: */*"],
            [variables[CgiVariable.RequestMethod], variables[CgiVariable.RequestUri], .. variables.Headers.ToArray().Select(header => header.Name + ": " + header.Value)]);
        Assert.Same(method, variables[CgiVariable.RequestMethod]);
        Assert.Same(host, variables.Headers[0].Value);
        Assert.NotSame(accept, variables.Headers[1].Value);
        Assert.Null(variables[CgiVariable.QueryString]);
        Assert.True(variables.HasHeader("HTTP_ACCEPT"u8));
        Assert.False(variables.HasHeader("HTTP_X_LONG"u8));
    }

    private static RequestVariables Variables(Dictionary<string, string> environ)
    {
        var variables = new RequestVariables();
        variables.Load(environ);
        return variables;
    }
}
