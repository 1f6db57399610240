using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace FastCgi.Cgi;

/// <summary>
/// The one place that turns a <see cref="RequestRejectionReason"/> into a status and a message. The message names
/// the limit, so the error log says which setting to raise; it never reaches the client.
/// </summary>
internal static class RequestRejection
{
    /// <summary>Throws the rejection for a limit <paramref name="reason"/>, naming its value <paramref name="limit"/>.</summary>
    [DoesNotReturn]
    public static void Throw(RequestRejectionReason reason, long limit) => throw Create(reason, limit);

    /// <summary>Throws the rejection for input that cannot be parsed; <paramref name="detail"/> says what is wrong.</summary>
    [DoesNotReturn]
    public static void ThrowMalformed(RequestRejectionReason reason, string detail)
    {
        var message = reason switch
        {
            RequestRejectionReason.InvalidMultipartBoundary => $"Invalid multipart boundary: {detail}.",
            RequestRejectionReason.MalformedMultipartBody => $"Malformed multipart body: {detail}.",
            _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, "Not a parse error."),
        };
        throw new RequestRejectedException(reason, StatusFor(reason), message);
    }

    /// <summary>The rejection for a limit <paramref name="reason"/>, naming its value <paramref name="limit"/>.</summary>
    public static RequestRejectedException Create(RequestRejectionReason reason, long limit)
    {
        var value = limit.ToString(CultureInfo.InvariantCulture);
        var message = reason switch
        {
            RequestRejectionReason.TooManyFormFields => $"The form has more than RequestLimits.MaxFormFields ({value}) fields.",
            RequestRejectionReason.UrlEncodedFormTooLarge => $"The query string and URL-encoded body are longer than RequestLimits.MaxUrlEncodedBytes ({value}).",
            RequestRejectionReason.FormValueTooLong => $"A form field's value is longer than RequestLimits.MaxFieldValueBytes ({value}).",
            RequestRejectionReason.TooManyMultipartParts => $"The multipart body has more than RequestLimits.MaxMultipartParts ({value}) parts.",
            RequestRejectionReason.MultipartHeadersTooLarge => $"A multipart part's headers are longer than RequestLimits.MaxPartHeaderBytes ({value}).",
            RequestRejectionReason.MultipartBodyTooLarge => $"The multipart body is longer than RequestLimits.MaxMultipartBytes ({value}).",
            RequestRejectionReason.RequestBodyTooLarge => $"The request body is over FastCgiServerLimits.MaxRequestBodyBytes ({value} bytes).",
            RequestRejectionReason.TooManyCookies => $"The Cookie header holds more than RequestLimits.MaxCookies ({value}) cookies.",
            RequestRejectionReason.CookieHeaderTooLarge => $"The Cookie header is longer than RequestLimits.MaxCookieHeaderBytes ({value}).",
            _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, "Not a limit."),
        };
        return new RequestRejectedException(reason, StatusFor(reason), message);
    }

    /// <summary>
    /// The status for <paramref name="reason"/>: 413 Content Too Large for a body over a limit (RFC 9110 section
    /// 15.5.14), 431 Request Header Fields Too Large for cookies (RFC 6585 section 5), 400 for what cannot be parsed.
    /// </summary>
    public static int StatusFor(RequestRejectionReason reason) => reason switch
    {
        RequestRejectionReason.TooManyCookies or RequestRejectionReason.CookieHeaderTooLarge => 431,
        RequestRejectionReason.InvalidMultipartBoundary or RequestRejectionReason.MalformedMultipartBody or RequestRejectionReason.Unspecified => 400,
        _ => 413,
    };
}
