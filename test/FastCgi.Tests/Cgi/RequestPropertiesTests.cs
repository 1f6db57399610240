using System.Net;
using System.Text;
using FastCgi.Cgi;
using FastCgi.Testing;
using FastCgi.Tests.Support;
using Xunit;

namespace FastCgi.Tests.Cgi;

/// <summary>The request as a .NET developer reads it: method, path, query, headers, body metadata, client and host.</summary>
public sealed class RequestPropertiesTests
{
    [Fact]
    public void Method_path_and_query_come_from_the_request_line()
    {
        using var request = new RecordingRequest(CgiVariables.Of(
            ("REQUEST_METHOD", "POST"),
            ("REQUEST_URI", "/app/h%C3%A9llo%20world?x=1&y=a+b"),
            ("QUERY_STRING", "x=1&y=a+b"),
            ("SCRIPT_NAME", "/app"),
            ("PATH_INFO", "/other")));

        Assert.Equal("POST", request.Method);
        Assert.Equal("/app/héllo world", request.Path);
        Assert.Equal("x=1&y=a+b", request.QueryString);
        Assert.Equal("1", request.Query.GetText("x"));
        Assert.Equal("a b", request.Query.GetText("y"));
    }

    [Fact]
    public void Without_REQUEST_URI_the_path_is_SCRIPT_NAME_and_PATH_INFO_as_given()
    {
        using var request = new RecordingRequest(CgiVariables.Of(("SCRIPT_NAME", "/cgi-bin/echo"), ("PATH_INFO", "/a%20b")));

        Assert.Equal("/cgi-bin/echo/a%20b", request.Path);
        Assert.Equal("", request.QueryString);
        Assert.Empty(request.Query);
    }

    [Theory]
    [InlineData("/a%2Fb%2fc", "/a%2Fb%2fc")]
    [InlineData("/a+b", "/a+b")]
    [InlineData("/%zz%41", "/%zzA")]
    [InlineData("/x#frag", "/x")]
    [InlineData("/plain", "/plain")]
    public void The_path_is_decoded_except_for_an_escaped_slash(string uri, string path)
    {
        Assert.Equal(path, RequestTarget.Path(CgiVariables.Of(("REQUEST_URI", uri))));
    }

    [Fact]
    public void Request_headers_are_the_HTTP_variables_plus_content_type_and_length_by_case_insensitive_name()
    {
        using var request = new RecordingRequest(CgiVariables.Of(
            ("HTTP_ACCEPT_ENCODING", "gzip"),
            ("HTTP_X_FORWARDED_FOR", "10.0.0.1"),
            ("HTTP_HOST", "example.com:8080"),
            ("CONTENT_TYPE", "text/plain"),
            ("CONTENT_LENGTH", "12"),
            ("SERVER_NAME", "ignored")));

        var headers = request.RequestHeaders;

        Assert.Equal("gzip", headers["accept-encoding"]);
        Assert.Equal("10.0.0.1", headers["X-Forwarded-For"]);
        Assert.Equal("text/plain", headers["Content-Type"]);
        Assert.Equal("12", headers["CONTENT-LENGTH"]);
        Assert.Equal(["Accept-Encoding", "Content-Length", "Content-Type", "Host", "X-Forwarded-For"], headers.Keys.Order(StringComparer.Ordinal));
        Assert.IsNotType<Dictionary<string, string>>(headers);
        Assert.Equal(12, request.ContentLength);
        Assert.Equal("text/plain", request.ContentType);
        Assert.Equal("example.com:8080", request.Host);
    }

    [Fact]
    public void Absent_body_metadata_is_null()
    {
        using var request = new RecordingRequest(CgiVariables.Of(("CONTENT_LENGTH", ""), ("CONTENT_TYPE", "")));

        Assert.Null(request.ContentLength);
        Assert.Null(request.ContentType);
        Assert.Empty(request.RequestHeaders);
    }

    [Theory]
    [InlineData("127.0.0.1", "127.0.0.1")]
    [InlineData("::1", "::1")]
    [InlineData("unix:", null)]
    [InlineData(null, null)]
    public void The_remote_address_is_parsed(string? remoteAddr, string? expected)
    {
        var environ = CgiVariables.Of();
        if (remoteAddr is not null)
        {
            environ["REMOTE_ADDR"] = remoteAddr;
        }

        using var request = new RecordingRequest(environ);

        Assert.Equal(expected is null ? null : IPAddress.Parse(expected), request.RemoteAddress);
    }

    [Theory]
    [InlineData(null, null, "http")]
    [InlineData("https", null, "https")]
    [InlineData(null, "on", "https")]
    [InlineData(null, "1", "https")]
    [InlineData(null, "off", "http")]
    public void The_scheme_follows_REQUEST_SCHEME_then_HTTPS(string? requestScheme, string? https, string scheme)
    {
        var environ = CgiVariables.Of();
        if (requestScheme is not null)
        {
            environ["REQUEST_SCHEME"] = requestScheme;
        }

        if (https is not null)
        {
            environ["HTTPS"] = https;
        }

        using var request = new RecordingRequest(environ);

        Assert.Equal(scheme, request.Scheme);
    }

    [Theory]
    [InlineData("example.com", "80", null, "example.com")]
    [InlineData("example.com", "8080", null, "example.com:8080")]
    [InlineData("example.com", "443", "on", "example.com")]
    [InlineData("example.com", "80", "on", "example.com:80")]
    public void Without_HTTP_HOST_the_host_is_the_server_name_and_a_port_that_is_not_the_default(string name, string port, string? https, string host)
    {
        var environ = CgiVariables.Of(("SERVER_NAME", name), ("SERVER_PORT", port));
        if (https is not null)
        {
            environ["HTTPS"] = https;
        }

        using var request = new RecordingRequest(environ);

        Assert.Equal(host, request.Host);
    }

    [Fact]
    public void An_empty_environment_gives_empty_values_not_errors()
    {
        using var request = new RecordingRequest(new Dictionary<string, string>());

        Assert.Equal("", request.Method);
        Assert.Equal("", request.Path);
        Assert.Equal("", request.Host);
    }

    [Fact]
    public void The_query_follows_the_form_encoding_and_fixes_it()
    {
        using var request = new RecordingRequest(CgiVariables.Of(("QUERY_STRING", "n=%E9")));
        request.FormEncoding = Encoding.Latin1;

        Assert.Equal("é", request.Query.GetText("n"));
        Assert.Throws<SequencingException>(() => request.FormEncoding = Encoding.UTF8);
    }

    [Fact]
    public void A_query_over_the_limit_is_rejected()
    {
        using var request = new RecordingRequest(CgiVariables.Of(("QUERY_STRING", "a=1&b=2")))
        {
            Limits = RequestLimits.Default with { MaxFormFields = 1 },
        };

        var error = Assert.Throws<RequestRejectedException>(() => request.Query);

        Assert.Equal(RequestRejectionReason.TooManyFormFields, error.Reason);
    }
}
