namespace FastCgi.Cgi.Output;

/// <summary>What a failed request leaves: a line in the error log, and a short HTML page for the client.</summary>
internal static class ErrorPage
{
    /// <summary>The status the client gets: a rejection's own, otherwise 500.</summary>
    public static int StatusFor(Exception exception) => (exception as RequestRejectedException)?.StatusCode ?? 500;

    /// <summary>
    /// What the error log gets: one line for a rejection (the request's fault, not the application's), the whole
    /// exception otherwise.
    /// </summary>
    public static string LogEntry(Exception exception) => exception is RequestRejectedException rejected
        ? $"Request rejected ({rejected.StatusCode}): {rejected.Message}"
        : exception.ToString();

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
