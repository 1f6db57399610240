using System.Globalization;

namespace FastCgi.Tool;

/// <summary>
/// The PARAMS of a request in the order and form of nginx's stock <c>fastcgi_params</c> (plus <c>SCRIPT_FILENAME</c>,
/// as nginx's <c>fastcgi.conf</c> adds it), then one <c>HTTP_*</c> variable per request header.
/// </summary>
internal sealed class CgiParams
{
    private readonly List<KeyValuePair<string, string>> _pairs = [];

    public IReadOnlyList<KeyValuePair<string, string>> Pairs => _pairs;

    /// <summary>Sets <paramref name="name"/>, replacing an earlier value in place.</summary>
    public void Set(string name, string value)
    {
        var index = _pairs.FindIndex(p => p.Key == name);
        if (index >= 0)
        {
            _pairs[index] = new(name, value);
        }
        else
        {
            _pairs.Add(new(name, value));
        }
    }

    /// <summary>
    /// The variables for <paramref name="request"/> as nginx sends them. The script
    /// name is the path, as <c>$fastcgi_script_name</c> is without <c>fastcgi_split_path_info</c>.
    /// </summary>
    public static CgiParams ForRequest(RequestLine request)
    {
        var target = request.Target;
        var question = target.IndexOf('?', StringComparison.Ordinal);
        var path = question < 0 ? target : target[..question];
        var query = question < 0 ? "" : target[(question + 1)..];
        var root = request.DocumentRoot.TrimEnd('/');
        var p = new CgiParams();
        p.Set("QUERY_STRING", query);
        p.Set("REQUEST_METHOD", request.Method);
        p.Set("CONTENT_TYPE", request.ContentType ?? "");
        p.Set("CONTENT_LENGTH", request.ContentLength?.ToString(CultureInfo.InvariantCulture) ?? "");
        p.Set("SCRIPT_NAME", Uri.UnescapeDataString(path));
        p.Set("REQUEST_URI", target);
        p.Set("DOCUMENT_URI", Uri.UnescapeDataString(path));
        p.Set("DOCUMENT_ROOT", request.DocumentRoot);
        p.Set("SERVER_PROTOCOL", request.Protocol);
        p.Set("REQUEST_SCHEME", request.Scheme);
        if (request.Scheme == "https")
        {
            p.Set("HTTPS", "on");
        }

        p.Set("GATEWAY_INTERFACE", "CGI/1.1");
        p.Set("SERVER_SOFTWARE", "fcgi/" + typeof(CgiParams).Assembly.GetName().Version?.ToString(3));
        p.Set("REMOTE_ADDR", request.RemoteAddress);
        p.Set("REMOTE_PORT", request.RemotePort.ToString(CultureInfo.InvariantCulture));
        p.Set("SERVER_ADDR", request.ServerAddress);
        p.Set("SERVER_PORT", request.ServerPort.ToString(CultureInfo.InvariantCulture));
        p.Set("SERVER_NAME", request.ServerName);
        p.Set("REDIRECT_STATUS", "200");
        p.Set("SCRIPT_FILENAME", root + Uri.UnescapeDataString(path));
        foreach (var (name, value) in request.Headers)
        {
            var variable = HeaderVariable(name);
            if (variable is not null)
            {
                // Repeated headers are joined as nginx joins them: ", " (with "; " for cookies).
                var existing = p._pairs.FindIndex(x => x.Key == variable);
                if (existing >= 0)
                {
                    var separator = variable == "HTTP_COOKIE" ? "; " : ", ";
                    p._pairs[existing] = new(variable, p._pairs[existing].Value + separator + value);
                }
                else
                {
                    p._pairs.Add(new(variable, value));
                }
            }
        }

        return p;
    }

    /// <summary>
    /// <c>HTTP_</c> and the name upper-cased with '-' as '_'; none for Content-Type and Content-Length (they are
    /// CONTENT_TYPE and CONTENT_LENGTH) and for names with characters nginx drops (anything but letters, digits, '-').
    /// </summary>
    public static string? HeaderVariable(string name)
    {
        if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase) || name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var chars = new char[name.Length];
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (c == '-')
            {
                chars[i] = '_';
            }
            else if (char.IsAsciiLetterOrDigit(c))
            {
                chars[i] = char.ToUpperInvariant(c);
            }
            else
            {
                return null;
            }
        }

        return "HTTP_" + new string(chars);
    }
}

/// <summary>What <see cref="CgiParams.ForRequest"/> needs to know of an HTTP request.</summary>
internal sealed record RequestLine
{
    public string Method { get; init; } = "GET";

    /// <summary>Path and query, as in the HTTP request line.</summary>
    public string Target { get; init; } = "/";

    public string Protocol { get; init; } = "HTTP/1.1";

    public string Scheme { get; init; } = "http";

    public string? ContentType { get; init; }

    public long? ContentLength { get; init; }

    public string DocumentRoot { get; init; } = "/var/www/html";

    public string RemoteAddress { get; init; } = "127.0.0.1";

    public int RemotePort { get; init; }

    public string ServerAddress { get; init; } = "127.0.0.1";

    public int ServerPort { get; init; } = 80;

    public string ServerName { get; init; } = "localhost";

    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];
}
