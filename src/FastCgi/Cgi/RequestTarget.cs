using System.Text;

namespace FastCgi.Cgi;

/// <summary>The request's path and headers as .NET code reads them, derived from the CGI meta-variables.</summary>
internal static class RequestTarget
{
    /// <summary>
    /// The decoded path. From <c>REQUEST_URI</c> when the web server sends it: every web server sends it the same
    /// way, while they split the path between <c>SCRIPT_NAME</c> and <c>PATH_INFO</c> differently (see
    /// docs/deployment.md). Otherwise <c>SCRIPT_NAME</c> + <c>PATH_INFO</c>, which RFC 3875 sections 4.1.5 and 4.1.13
    /// define as already decoded.
    /// </summary>
    public static string Path(IReadOnlyDictionary<string, string> environ)
    {
        if (environ.TryGetValue("REQUEST_URI", out var uri) && uri.Length > 0)
        {
            var end = uri.AsSpan().IndexOfAny('?', '#');
            return DecodePath(end < 0 ? uri : uri.AsSpan(0, end));
        }

        return environ.GetValueOrDefault("SCRIPT_NAME") + environ.GetValueOrDefault("PATH_INFO");
    }

    /// <summary>
    /// Decodes <c>%XX</c> escapes as UTF-8 (RFC 3986 section 2.5), except <c>%2F</c>: a decoded one could not be told
    /// from a segment separator, so it stays escaped, as in ASP.NET Core's <c>PathString</c>.
    /// </summary>
    public static string DecodePath(ReadOnlySpan<char> raw)
    {
        if (!raw.Contains('%'))
        {
            return raw.ToString();
        }

        var builder = new StringBuilder(raw.Length);
        while (true)
        {
            var slash = raw.IndexOf("%2F", StringComparison.OrdinalIgnoreCase);
            var piece = slash < 0 ? raw : raw[..slash];
            builder.Append(PercentCoding.Decode(piece, plusIsSpace: false, Encoding.UTF8));
            if (slash < 0)
            {
                return builder.ToString();
            }

            builder.Append(raw.Slice(slash, 3));
            raw = raw[(slash + 3)..];
        }
    }

    /// <summary>
    /// The request headers: each <c>HTTP_*</c> meta-variable under its field name (RFC 3875 section 4.1.18:
    /// <c>HTTP_ACCEPT_ENCODING</c> is <c>Accept-Encoding</c>), plus <c>Content-Type</c> and <c>Content-Length</c>,
    /// which CGI passes without the prefix (sections 4.1.2 and 4.1.3). Names compare case-insensitively.
    /// </summary>
    public static Dictionary<string, string> Headers(IReadOnlyDictionary<string, string> environ)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in environ)
        {
            if (name.StartsWith("HTTP_", StringComparison.Ordinal) && name.Length > 5)
            {
                headers[FieldName(name.AsSpan(5))] = value;
            }
        }

        if (environ.GetValueOrDefault("CONTENT_TYPE") is { Length: > 0 } contentType)
        {
            headers["Content-Type"] = contentType;
        }

        if (environ.GetValueOrDefault("CONTENT_LENGTH") is { Length: > 0 } contentLength)
        {
            headers["Content-Length"] = contentLength;
        }

        return headers;
    }

    /// <summary><c>ACCEPT_ENCODING</c> → <c>Accept-Encoding</c>.</summary>
    private static string FieldName(ReadOnlySpan<char> variable) => string.Create(variable.Length, variable, static (span, source) =>
    {
        var wordStart = true;
        for (var i = 0; i < source.Length; i++)
        {
            var c = source[i];
            span[i] = c == '_' ? '-' : wordStart ? char.ToUpperInvariant(c) : char.ToLowerInvariant(c);
            wordStart = c == '_';
        }
    });
}
