using FastCgi.Validation;

namespace FastCgi.Cgi;

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
    /// <exception cref="ArgumentOutOfRangeException">The value is zero or negative.</exception>
    public int MaxFormFields
    {
        get;
        init => field = OptionValidation.Positive(value, nameof(MaxFormFields));
    } = 1024;

    /// <summary>Longest query string plus URL-encoded body, in bytes. Default 4 MiB.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero or negative.</exception>
    public long MaxUrlEncodedBytes
    {
        get;
        init => field = OptionValidation.Positive(value, nameof(MaxUrlEncodedBytes));
    } = 4 * 1024 * 1024;

    /// <summary>Most parts in a multipart body. Default 1024.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero or negative.</exception>
    public int MaxMultipartParts
    {
        get;
        init => field = OptionValidation.Positive(value, nameof(MaxMultipartParts));
    } = 1024;

    /// <summary>Longest header block of one multipart part, in bytes, at most 1 MiB. Default 16 KiB.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero, negative or over 1 MiB.</exception>
    public int MaxPartHeaderBytes
    {
        get;
        // The parser keeps a window of this size in one array.
        init => field = OptionValidation.InRange(value, 1, 1024 * 1024, nameof(MaxPartHeaderBytes));
    } = 16 * 1024;

    /// <summary>Largest whole multipart body, in bytes. Default 128 MiB.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero or negative.</exception>
    public long MaxMultipartBytes
    {
        get;
        init => field = OptionValidation.Positive(value, nameof(MaxMultipartBytes));
    } = 128L * 1024 * 1024;

    /// <summary>
    /// A part larger than this is spooled to a temporary file instead of memory; 0 spools every part. Default 64 KiB.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public int PartMemoryThreshold
    {
        get;
        init => field = OptionValidation.NotNegative(value, nameof(PartMemoryThreshold));
    } = 64 * 1024;

    /// <summary>Longest text value of one form field (not a file), in bytes. Default 4 MiB.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero or negative.</exception>
    public int MaxFieldValueBytes
    {
        get;
        init => field = OptionValidation.Positive(value, nameof(MaxFieldValueBytes));
    } = 4 * 1024 * 1024;

    /// <summary>Most cookies read from <c>HTTP_COOKIE</c>. Default 100.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero or negative.</exception>
    public int MaxCookies
    {
        get;
        init => field = OptionValidation.Positive(value, nameof(MaxCookies));
    } = 100;

    /// <summary>Longest <c>HTTP_COOKIE</c> value, in bytes. Default 16 KiB.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero or negative.</exception>
    public int MaxCookieHeaderBytes
    {
        get;
        init => field = OptionValidation.Positive(value, nameof(MaxCookieHeaderBytes));
    } = 16 * 1024;
}
