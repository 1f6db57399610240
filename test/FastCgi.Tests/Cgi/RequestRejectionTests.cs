using FastCgi.Cgi;
using FastCgi.Cgi.Cookies;
using Xunit;

namespace FastCgi.Tests.Cgi;

/// <summary>Each rejection reason's status and message, and the reason carried by what the parsers throw.</summary>
public sealed class RequestRejectionTests
{
    [Theory]
    [InlineData(RequestRejectionReason.TooManyFormFields, 413, "RequestLimits.MaxFormFields (7)")]
    [InlineData(RequestRejectionReason.UrlEncodedFormTooLarge, 413, "RequestLimits.MaxUrlEncodedBytes (7)")]
    [InlineData(RequestRejectionReason.FormValueTooLong, 413, "RequestLimits.MaxFieldValueBytes (7)")]
    [InlineData(RequestRejectionReason.TooManyMultipartParts, 413, "RequestLimits.MaxMultipartParts (7)")]
    [InlineData(RequestRejectionReason.MultipartHeadersTooLarge, 413, "RequestLimits.MaxPartHeaderBytes (7)")]
    [InlineData(RequestRejectionReason.MultipartBodyTooLarge, 413, "RequestLimits.MaxMultipartBytes (7)")]
    [InlineData(RequestRejectionReason.RequestBodyTooLarge, 413, "FastCgiServerLimits.MaxRequestBodyBytes (7 bytes)")]
    [InlineData(RequestRejectionReason.TooManyCookies, 431, "RequestLimits.MaxCookies (7)")]
    [InlineData(RequestRejectionReason.CookieHeaderTooLarge, 431, "RequestLimits.MaxCookieHeaderBytes (7)")]
    public void A_limit_maps_to_its_status_and_a_message_naming_the_setting(RequestRejectionReason reason, int status, string names)
    {
        var error = RequestRejection.Create(reason, 7);

        Assert.Equal(reason, error.Reason);
        Assert.Equal(status, error.StatusCode);
        Assert.Contains(names, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(RequestRejectionReason.InvalidMultipartBoundary, "Invalid multipart boundary: why.")]
    [InlineData(RequestRejectionReason.MalformedMultipartBody, "Malformed multipart body: why.")]
    public void Malformed_input_is_a_400_with_its_detail(RequestRejectionReason reason, string message)
    {
        var error = Assert.Throws<RequestRejectedException>(() => RequestRejection.ThrowMalformed(reason, "why"));

        Assert.Equal(reason, error.Reason);
        Assert.Equal(400, error.StatusCode);
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void A_parse_error_is_not_a_limit_and_a_limit_is_not_a_parse_error()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => RequestRejection.Create(RequestRejectionReason.MalformedMultipartBody, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => RequestRejection.ThrowMalformed(RequestRejectionReason.TooManyCookies, "x"));
    }

    [Fact]
    public void Every_reason_has_a_status()
    {
        foreach (var reason in Enum.GetValues<RequestRejectionReason>())
        {
            Assert.Contains(RequestRejection.StatusFor(reason), new[] { 400, 413, 431 });
        }
    }

    [Fact]
    public void A_rejection_thrown_by_application_code_has_no_library_reason()
    {
        Assert.Equal(RequestRejectionReason.Unspecified, new RequestRejectedException(404, "gone").Reason);
        Assert.Equal(RequestRejectionReason.Unspecified, new RequestRejectedException().Reason);
    }

    [Fact]
    public void The_parsers_throw_with_the_reason()
    {
        var limits = RequestLimits.Default with { MaxCookies = 1, MaxCookieHeaderBytes = 8 };

        Assert.Equal(RequestRejectionReason.TooManyCookies, Assert.Throws<RequestRejectedException>(() => CookieParser.Parse("a=1; b=2", limits)).Reason);
        Assert.Equal(RequestRejectionReason.CookieHeaderTooLarge, Assert.Throws<RequestRejectedException>(() => CookieParser.Parse("a=123456789", limits)).Reason);
    }
}
