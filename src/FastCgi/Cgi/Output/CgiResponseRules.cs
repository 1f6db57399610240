namespace FastCgi.Cgi.Output;

/// <summary>The rules of RFC 3875 section 6 that shape a response's head before it is sent.</summary>
internal static class CgiResponseRules
{
    /// <summary>
    /// Applies the redirect rules to <paramref name="headers"/> and returns whether the body must be dropped.
    /// A local redirect (section 6.2.2) is the Location field alone, with no body. A client redirect (sections
    /// 6.2.3 and 6.2.4) is 302 Found unless the application set a status, and keeps its headers and body.
    /// </summary>
    /// <param name="headers">The response headers.</param>
    /// <param name="bodyLength">The body bytes known so far (0 when the head goes out first).</param>
    public static bool ApplyRedirect(ResponseHeaderList headers, int bodyLength)
    {
        var location = headers.Get("Location");
        if (location is null)
        {
            return false;
        }

        if (IsLocalRedirect(headers, location, bodyLength))
        {
            headers.RemoveAllBut("Location");
            return true;
        }

        if (headers.Get("Status") is null)
        {
            headers.Add("Status", "302 Found");
        }

        return false;
    }

    /// <summary>
    /// Puts <c>Status</c> first: lighttpd reads an authorizer's headers that come before its Status as those of a
    /// grant, and drops them.
    /// </summary>
    public static void PutStatusFirst(ResponseHeaderList headers) => headers.MoveToFront("Status");

    /// <summary>
    /// A Location path and nothing else. A Status, a header other than Location and Content-Type (which labels no
    /// body), or a body make it a client redirect, passed on as written.
    /// </summary>
    private static bool IsLocalRedirect(ResponseHeaderList headers, string location, int bodyLength) =>
        bodyLength == 0
        && location.StartsWith('/')
        && !location.StartsWith("//", StringComparison.Ordinal)
        && headers.HasOnly("Location", "Content-Type");
}
