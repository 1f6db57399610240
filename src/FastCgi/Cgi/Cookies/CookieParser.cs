using System.Text;

namespace FastCgi.Cgi.Cookies;

/// <summary>Parses the <c>Cookie</c> request header (RFC 6265 section 5.4).</summary>
internal static class CookieParser
{
    /// <summary>
    /// Parses <c>HTTP_COOKIE</c> (<c>a=1; b=2</c>): a pair without <c>=</c> is ignored; the value loses its
    /// surrounding double quotes and is then percent-decoded as UTF-8 (<c>+</c> stays <c>+</c>, a malformed escape
    /// stays as it is); the first cookie of a name wins (RFC 6265 section 5.4 orders the more specific path first).
    /// Names are case-sensitive.
    /// </summary>
    /// <exception cref="RequestRejectedException">431 when the header or the number of cookies is over a limit.</exception>
    public static IReadOnlyDictionary<string, string> Parse(string? header, RequestLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        var cookies = new Dictionary<string, string>(StringComparer.Ordinal);
        if (string.IsNullOrEmpty(header))
        {
            return cookies;
        }

        // The length check first keeps an oversized header from being scanned at all.
        if (header.Length > limits.MaxCookieHeaderBytes || Encoding.UTF8.GetByteCount(header) > limits.MaxCookieHeaderBytes)
        {
            RequestRejection.Throw(RequestRejectionReason.CookieHeaderTooLarge, limits.MaxCookieHeaderBytes);
        }

        var count = 0;
        foreach (var range in header.AsSpan().Split(';'))
        {
            var pair = header.AsSpan(range).Trim(' ');
            var equals = pair.IndexOf('=');
            if (equals < 0)
            {
                continue;
            }

            if (++count > limits.MaxCookies)
            {
                RequestRejection.Throw(RequestRejectionReason.TooManyCookies, limits.MaxCookies);
            }

            var name = pair[..equals].Trim(' ').ToString();
            if (cookies.ContainsKey(name))
            {
                continue;
            }

            var value = pair[(equals + 1)..].Trim(' ');
            if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
            {
                value = value[1..^1];
            }

            cookies.Add(name, PercentCoding.Decode(value, plusIsSpace: false, Encoding.UTF8));
        }

        return cookies;
    }
}
