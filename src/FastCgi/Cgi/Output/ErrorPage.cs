namespace FastCgi.Cgi.Output;

/// <summary>The short HTML page a client gets when a request fails.</summary>
internal static class ErrorPage
{
    /// <summary>Renders the page; <paramref name="details"/> (development only) is HTML-encoded into it.</summary>
    public static string Render(int status, string reason, string? details)
    {
        var title = $"{status} {reason}";
        var body = details is null
            ? "<p>The server could not complete the request.</p>"
            : $"<pre>{HttpEncoding.HtmlEncode(details)}</pre>";
        return $"<!DOCTYPE html>\n<html><head><title>{title}</title></head>\n<body><h1>{title}</h1>\n{body}\n</body></html>\n";
    }
}
