namespace FastCgi;

/// <summary>
/// Limits on what a request's form, body and cookies may make the library hold. A request over a limit is
/// rejected with <see cref="RequestRejectedException"/> (413) and every other request carries on.
/// <c>null</c> never means "unlimited": each property has a default, stated here.
/// </summary>
public sealed record RequestLimits
{
    /// <summary>The defaults.</summary>
    public static RequestLimits Default { get; } = new();

    /// <summary>Most form fields (query string, URL-encoded body and multipart parts together). Default 1024.</summary>
    public int MaxFormFields { get; init; } = 1024;

    /// <summary>Longest query string plus URL-encoded body, in bytes. Default 4 MiB.</summary>
    public long MaxUrlEncodedBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Most parts in a multipart body. Default 1024.</summary>
    public int MaxMultipartParts { get; init; } = 1024;

    /// <summary>Longest header block of one multipart part, in bytes. Default 16 KiB.</summary>
    public int MaxPartHeaderBytes { get; init; } = 16 * 1024;

    /// <summary>Largest whole multipart body, in bytes. Default 128 MiB.</summary>
    public long MaxMultipartBytes { get; init; } = 128L * 1024 * 1024;

    /// <summary>
    /// A part larger than this is spooled to a temporary file instead of memory. Default 64 KiB.
    /// </summary>
    public int PartMemoryThreshold { get; init; } = 64 * 1024;

    /// <summary>Longest text value of one form field (not a file), in bytes. Default 4 MiB.</summary>
    public int MaxFieldValueBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Most cookies read from <c>HTTP_COOKIE</c>. Default 100.</summary>
    public int MaxCookies { get; init; } = 100;

    /// <summary>Longest <c>HTTP_COOKIE</c> value, in bytes. Default 16 KiB.</summary>
    public int MaxCookieHeaderBytes { get; init; } = 16 * 1024;
}
