using System.Collections.ObjectModel;
using System.Globalization;
using System.Net;
using FastCgi.Cgi;
using FastCgi.Cgi.Forms;

namespace FastCgi;

public abstract partial class Request
{
    private string? _path;
    private Form? _query;
    private ReadOnlyDictionary<string, string>? _requestHeaders;

    /// <summary>The request method (<c>REQUEST_METHOD</c>, RFC 3875 section 4.1.12): <c>GET</c>, <c>POST</c>...; empty when absent.</summary>
    public string Method => GetEnvironment("REQUEST_METHOD") ?? "";

    /// <summary>
    /// The decoded request path, without the query: <c>/app/hello</c>. Read from <c>REQUEST_URI</c>, which every web
    /// server sends the same way, else <c>SCRIPT_NAME</c> + <c>PATH_INFO</c> (web servers split the path between
    /// those two differently; see docs/deployment.md). Escapes are decoded as UTF-8 except <c>%2F</c>, which stays
    /// escaped so that it cannot be mistaken for a separator.
    /// </summary>
    public string Path => _path ??= RequestTarget.Path(Environ);

    /// <summary>The query string as sent, without the <c>?</c> (<c>QUERY_STRING</c>); empty when there is none.</summary>
    public string QueryString => GetEnvironment("QUERY_STRING") ?? "";

    /// <summary>
    /// The query string's fields, parsed on first access under the conventions of <see cref="Params"/> (which holds
    /// them too, with the body's fields). Reading it never touches the body.
    /// </summary>
    /// <exception cref="RequestRejectedException">The query string is over a limit of <see cref="Limits"/> (413).</exception>
    public Form Query => _query ??= FormReader.ReadQuery(QueryString, _formEncoding, Limits);

    /// <summary>
    /// The request headers, by field name compared case-insensitively: each <c>HTTP_*</c> meta-variable
    /// (<c>HTTP_ACCEPT_ENCODING</c> is <c>Accept-Encoding</c>), plus <c>Content-Type</c> and <c>Content-Length</c>.
    /// Web servers pass what they choose: most withhold <c>Authorization</c> unless configured to pass it.
    /// The response's headers are <see cref="ResponseHeaders"/>.
    /// </summary>
    public IReadOnlyDictionary<string, string> RequestHeaders => _requestHeaders ??= new(RequestTarget.Headers(Environ));

    /// <summary>The body's length (<c>CONTENT_LENGTH</c>), or <c>null</c> when the request says none.</summary>
    public long? ContentLength =>
        long.TryParse(GetEnvironment("CONTENT_LENGTH"), NumberStyles.None, CultureInfo.InvariantCulture, out var length) ? length : null;

    /// <summary>The body's media type (<c>CONTENT_TYPE</c>), or <c>null</c> when the request has none.</summary>
    public string? ContentType => GetEnvironment("CONTENT_TYPE") is { Length: > 0 } type ? type : null;

    /// <summary>
    /// The client's address (<c>REMOTE_ADDR</c>), or <c>null</c> when the web server sent none or no IP address
    /// (nginx sends <c>unix:</c> for a client on a Unix socket).
    /// </summary>
    public IPAddress? RemoteAddress => IPAddress.TryParse(GetEnvironment("REMOTE_ADDR"), out var address) ? address : null;

    /// <summary>
    /// <c>https</c> or <c>http</c>: <c>REQUEST_SCHEME</c> when the web server sends it, otherwise <c>https</c> when
    /// <c>HTTPS</c> is <c>on</c> or <c>1</c> (the convention of nginx, Apache and lighttpd).
    /// </summary>
    public string Scheme => GetEnvironment("REQUEST_SCHEME") is { Length: > 0 } scheme
        ? scheme
        : GetEnvironment("HTTPS") is { } https && (https.Equals("on", StringComparison.OrdinalIgnoreCase) || https == "1") ? "https" : "http";

    /// <summary>
    /// The host the client asked for, with its port when it gave one: <c>HTTP_HOST</c>, else <c>SERVER_NAME</c> (and
    /// <c>SERVER_PORT</c> when it is not the scheme's default); empty when the web server sent neither.
    /// </summary>
    public string Host
    {
        get
        {
            if (GetEnvironment("HTTP_HOST") is { Length: > 0 } host)
            {
                return host;
            }

            var name = GetEnvironment("SERVER_NAME") ?? "";
            var port = GetEnvironment("SERVER_PORT");
            var isDefault = string.IsNullOrEmpty(port) || port == (Scheme == "https" ? "443" : "80");
            return isDefault || name.Length == 0 ? name : name + ":" + port;
        }
    }
}
