namespace FastCgi.Cgi;

/// <summary>
/// Why the library rejected a request (<see cref="RequestRejectedException.Reason"/>): a limit of
/// <see cref="RequestLimits"/> or <see cref="FastCgiServerLimits"/> it went over, or input it could not parse.
/// Members may be added in later versions.
/// </summary>
public enum RequestRejectionReason
{
    /// <summary>Rejected by application code, with a status of its own.</summary>
    Unspecified,

    /// <summary>More form fields than <see cref="RequestLimits.MaxFormFields"/> (413).</summary>
    TooManyFormFields,

    /// <summary>The query string and URL-encoded body together over <see cref="RequestLimits.MaxUrlEncodedBytes"/> (413).</summary>
    UrlEncodedFormTooLarge,

    /// <summary>A text field's value over <see cref="RequestLimits.MaxFieldValueBytes"/> (413).</summary>
    FormValueTooLong,

    /// <summary>More multipart parts than <see cref="RequestLimits.MaxMultipartParts"/> (413).</summary>
    TooManyMultipartParts,

    /// <summary>A multipart part's header block over <see cref="RequestLimits.MaxPartHeaderBytes"/> (413).</summary>
    MultipartHeadersTooLarge,

    /// <summary>A multipart body over <see cref="RequestLimits.MaxMultipartBytes"/> (413).</summary>
    MultipartBodyTooLarge,

    /// <summary>A request body over <see cref="FastCgiServerLimits.MaxRequestBodyBytes"/> (413).</summary>
    RequestBodyTooLarge,

    /// <summary>A <c>multipart/form-data</c> type without a boundary, or with one that is not 1 to 70 characters (400).</summary>
    InvalidMultipartBoundary,

    /// <summary>A multipart body that does not follow RFC 7578 (400).</summary>
    MalformedMultipartBody,

    /// <summary>More cookies than <see cref="RequestLimits.MaxCookies"/> (431).</summary>
    TooManyCookies,

    /// <summary>A <c>Cookie</c> header over <see cref="RequestLimits.MaxCookieHeaderBytes"/> (431).</summary>
    CookieHeaderTooLarge,
}
