using System.Globalization;

namespace FastCgi.Testing;

/// <summary>The one builder of CGI meta-variables (RFC 3875 section 4.1) for the tests, fuzz harnesses and benchmarks.</summary>
public static class CgiVariables
{
    /// <summary>
    /// What a web server sends for a request to <paramref name="uri"/>: the method, URI, query, script name, server
    /// and client, plus the content type and length when given and <paramref name="extra"/> last.
    /// </summary>
    public static Dictionary<string, string> Environ(string uri, string method = "GET", string? contentType = null, long? contentLength = null, IEnumerable<KeyValuePair<string, string>>? extra = null)
    {
        var environ = Bare(uri.Contains('?', StringComparison.Ordinal) ? uri.Split('?', 2)[1] : "", method, contentType, contentLength);
        environ["GATEWAY_INTERFACE"] = "CGI/1.1";
        environ["SERVER_PROTOCOL"] = "HTTP/1.1";
        environ["REQUEST_URI"] = uri;
        environ["SCRIPT_NAME"] = uri.Split('?')[0];
        environ["SERVER_NAME"] = "localhost";
        environ["SERVER_PORT"] = "80";
        environ["REMOTE_ADDR"] = "127.0.0.1";
        return With(environ, extra);
    }

    /// <summary>Only REQUEST_METHOD and what is given: the least a CGI request has.</summary>
    public static Dictionary<string, string> Bare(string? query = null, string method = "GET", string? contentType = null, long? contentLength = null)
    {
        var environ = new Dictionary<string, string>(StringComparer.Ordinal) { ["REQUEST_METHOD"] = method };
        if (query is not null)
        {
            environ["QUERY_STRING"] = query;
        }

        if (contentType is not null)
        {
            environ["CONTENT_TYPE"] = contentType;
        }

        if (contentLength is { } length)
        {
            environ["CONTENT_LENGTH"] = length.ToString(CultureInfo.InvariantCulture);
        }

        return environ;
    }

    /// <summary>A bare GET's variables with <paramref name="variables"/> set over them.</summary>
    public static Dictionary<string, string> Of(params (string Name, string Value)[] variables) =>
        With(Bare(), variables.Select(v => KeyValuePair.Create(v.Name, v.Value)));

    /// <summary>
    /// The PARAMS nginx sends with its stock fastcgi_params for a browser's GET of /hello (25 pairs, 733 bytes, the
    /// same set perf/loadgen/fcgi-load.c sends), in nginx's order.
    /// </summary>
    public static KeyValuePair<string, string>[] NginxHello() =>
    [
        new("QUERY_STRING", ""),
        new("REQUEST_METHOD", "GET"),
        new("CONTENT_TYPE", ""),
        new("CONTENT_LENGTH", ""),
        new("SCRIPT_NAME", "/hello"),
        new("REQUEST_URI", "/hello"),
        new("DOCUMENT_URI", "/hello"),
        new("DOCUMENT_ROOT", "/var/www/html"),
        new("SERVER_PROTOCOL", "HTTP/1.1"),
        new("REQUEST_SCHEME", "http"),
        new("GATEWAY_INTERFACE", "CGI/1.1"),
        new("SERVER_SOFTWARE", "nginx/1.22.1"),
        new("REMOTE_ADDR", "127.0.0.1"),
        new("REMOTE_PORT", "52814"),
        new("SERVER_ADDR", "127.0.0.1"),
        new("SERVER_PORT", "8080"),
        new("SERVER_NAME", "localhost"),
        new("REDIRECT_STATUS", "200"),
        new("SCRIPT_FILENAME", "/var/www/html/hello"),
        new("HTTP_HOST", "localhost:8080"),
        new("HTTP_USER_AGENT", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"),
        new("HTTP_ACCEPT", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"),
        new("HTTP_ACCEPT_LANGUAGE", "en-GB,en;q=0.7,fr;q=0.3"),
        new("HTTP_ACCEPT_ENCODING", "gzip, deflate, br, zstd"),
        new("HTTP_CONNECTION", "keep-alive"),
    ];

    private static Dictionary<string, string> With(Dictionary<string, string> environ, IEnumerable<KeyValuePair<string, string>>? variables)
    {
        foreach (var (name, value) in variables ?? [])
        {
            environ[name] = value;
        }

        return environ;
    }
}
