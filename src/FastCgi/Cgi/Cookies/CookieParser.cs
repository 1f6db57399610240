namespace FastCgi.Cgi.Cookies;

/// <summary>Parses the <c>Cookie</c> request header (RFC 6265 section 5.4).</summary>
internal static class CookieParser
{
    /// <summary>Parses <c>HTTP_COOKIE</c>; values are percent-decoded; the first cookie of a name wins.</summary>
    public static IReadOnlyDictionary<string, string> Parse(string? header, RequestLimits limits)
    {
        throw new NotImplementedException();
    }
}
