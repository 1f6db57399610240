using System.Text;
using FastCgi.Cgi;
using FastCgi.Cgi.Cookies;
using FastCgi.Cgi.Output;

namespace FastCgi;

public abstract partial class Request
{
    /// <summary>
    /// The <c>Content-Type</c> every response starts with. jonpy's default was ISO-8859-1; ours is UTF-8, the
    /// encoding <see cref="Write(string)"/> uses by default. Its charset follows <see cref="OutputEncoding"/>.
    /// </summary>
    public const string DefaultContentType = "text/html; charset=utf-8";

    private readonly ResponseHeaderList _headers = new();

    /// <summary>
    /// The response headers in the order they will be sent (jonpy's response header list); change them with
    /// <see cref="SetHeader"/>, <see cref="AddHeader"/> and <see cref="DeleteHeader"/>. The request's headers are
    /// <see cref="RequestHeaders"/>.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, string>> ResponseHeaders => _headers;

    /// <summary>Whether the headers were sent; once they are, changing them is a <see cref="SequencingException"/>.</summary>
    public bool HeadersSent => _response.HeadersSent;

    /// <summary>Replaces every value of header <paramref name="name"/> with <paramref name="value"/>.</summary>
    /// <exception cref="ArgumentException">The name is not a token, or the value holds CR, LF or NUL.</exception>
    /// <exception cref="SequencingException">The headers were sent.</exception>
    public void SetHeader(string name, string value)
    {
        CheckHeadersNotSent(nameof(SetHeader));
        HeaderValidator.Validate(name, value);
        _headers.Set(name, value);
    }

    /// <summary>Adds another value of header <paramref name="name"/> after the existing ones.</summary>
    /// <exception cref="ArgumentException">The name is not a token, or the value holds CR, LF or NUL.</exception>
    /// <exception cref="SequencingException">The headers were sent.</exception>
    public void AddHeader(string name, string value)
    {
        CheckHeadersNotSent(nameof(AddHeader));
        HeaderValidator.Validate(name, value);
        _headers.Add(name, value);
    }

    /// <summary>The <paramref name="index"/>th value of header <paramref name="name"/>, or <c>null</c>.</summary>
    public string? GetHeader(string name, int index = 0) => _headers.Get(name, index);

    /// <summary>Removes every value of header <paramref name="name"/>; returns whether there was one.</summary>
    /// <exception cref="SequencingException">The headers were sent.</exception>
    public bool DeleteHeader(string name)
    {
        CheckHeadersNotSent(nameof(DeleteHeader));
        return _headers.Remove(name) > 0;
    }

    /// <summary>Removes every header, the default <c>Content-Type</c> included.</summary>
    /// <exception cref="SequencingException">The headers were sent.</exception>
    public void ClearHeaders()
    {
        CheckHeadersNotSent(nameof(ClearHeaders));
        _headers.Clear();
    }

    /// <summary>
    /// Adds <paramref name="value"/> to the comma-separated header <paramref name="name"/> unless it is already one
    /// of its values (compared case-insensitively), creating the header if needed.
    /// </summary>
    /// <exception cref="SequencingException">The headers were sent.</exception>
    public void AppendHeaderValue(string name, string value)
    {
        CheckHeadersNotSent(nameof(AppendHeaderValue));
        HeaderValidator.Validate(name, value);
        _headers.AppendValue(name, value);
    }

    /// <summary>Sets the <c>Status</c> header, as a CGI script does: <c>Status: 404 Not Found</c>.</summary>
    /// <param name="code">The HTTP status code, 100 to 999.</param>
    /// <param name="reason">The reason phrase; by default the standard one for the code.</param>
    /// <exception cref="SequencingException">The headers were sent.</exception>
    public void SetStatus(int code, string? reason = null)
    {
        // Checked here too so the exception names the call the application made.
        CheckHeadersNotSent(nameof(SetStatus));
        ArgumentOutOfRangeException.ThrowIfLessThan(code, 100);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(code, 999);
        var value = $"{code} {reason ?? ReasonPhrases.For(code)}";

        // The name is the library's own and a standard phrase is known to be clean: only a caller's reason is checked.
        if (reason is not null)
        {
            HeaderValidator.ValidateValue("Status", value);
        }

        _headers.Set("Status", value);
    }

    /// <summary>
    /// The status code from the <c>Status</c> header, or 200 when there is none (the web server's default).
    /// </summary>
    public int StatusCode => _headers.StatusCode;

    /// <summary>Adds a <c>Set-Cookie</c> header.</summary>
    /// <param name="name">The cookie name: an RFC 9110 token.</param>
    /// <param name="value">The value; bytes a cookie cannot carry are percent-encoded, so it cannot inject attributes.</param>
    /// <param name="options">Expires, Max-Age, Domain, Path, Secure, HttpOnly, SameSite, Partitioned.</param>
    /// <exception cref="SequencingException">The headers were sent.</exception>
    public void SetCookie(string name, string value, SetCookieOptions? options = null) =>
        AddHeader("Set-Cookie", SetCookieFormatter.Format(name, value, options));

    /// <summary>The default <c>Content-Type</c> for a body written in <paramref name="encoding"/>.</summary>
    private static string DefaultContentTypeFor(Encoding encoding) =>
        encoding.WebName == "utf-8" ? DefaultContentType : "text/html; charset=" + encoding.WebName;

    private void CheckHeadersNotSent(string operation)
    {
        if (HeadersSent)
        {
            throw new SequencingException($"{operation}: the headers were already sent.");
        }
    }
}
