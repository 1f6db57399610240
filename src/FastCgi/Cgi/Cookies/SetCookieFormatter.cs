namespace FastCgi.Cgi.Cookies;

/// <summary>Formats a <c>Set-Cookie</c> header value (RFC 6265 section 4.1.1).</summary>
internal static class SetCookieFormatter
{
    /// <summary>
    /// Formats <c>name=value; attributes</c>. The value is percent-encoded where RFC 6265's cookie-octet does not
    /// allow a byte, so no value can inject attributes.
    /// </summary>
    /// <exception cref="ArgumentException">The name is not an RFC 9110 token, or an attribute holds a control character or <c>;</c>.</exception>
    public static string Format(string name, string value, CookieOptions? options)
    {
        throw new NotImplementedException();
    }
}
