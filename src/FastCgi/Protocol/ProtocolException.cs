using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace FastCgi.Protocol;

/// <summary>The web server broke the FastCGI protocol; the connection is closed (see <see cref="ProtocolRejectionReason"/>).</summary>
internal sealed class ProtocolException : Exception
{
    public ProtocolException(ProtocolRejectionReason reason, string message) : base(message)
    {
        Reason = reason;
    }

    /// <summary>What was wrong, for callers that react to a particular violation (and for tests).</summary>
    public ProtocolRejectionReason Reason { get; }

    /// <summary>
    /// Throws the exception for <paramref name="reason"/>. Kept out of line so the hot paths that call it stay small.
    /// </summary>
    /// <param name="reason">What was wrong.</param>
    /// <param name="value">The offending number: the version, body length, name-value length, prefix size, record length or request id.</param>
    /// <param name="available">How many bytes there were, where that matters to the message.</param>
    [DoesNotReturn]
    public static void Throw(ProtocolRejectionReason reason, long value = 0, long available = 0)
    {
        throw new ProtocolException(reason, GetMessage(reason, value, available));
    }

    private static string GetMessage(ProtocolRejectionReason reason, long value, long available)
    {
        var culture = CultureInfo.InvariantCulture;
        return reason switch
        {
            ProtocolRejectionReason.UnsupportedVersion =>
                string.Create(culture, $"Record version {value} is not FastCGI 1.0."),
            ProtocolRejectionReason.InvalidBeginRequestBody =>
                string.Create(culture, $"FCGI_BEGIN_REQUEST body is {value} bytes; it needs 8."),
            ProtocolRejectionReason.NameValueLengthPastContent =>
                string.Create(culture, $"Name-value length {value} runs past the {available} bytes that remain."),
            ProtocolRejectionReason.NameValueTruncated =>
                string.Create(culture, $"Name-value data ends inside a length prefix: {available} of {value} bytes present."),
            ProtocolRejectionReason.TruncatedRecord =>
                string.Create(culture, $"Input ended inside a record: {available} of {value} bytes present."),
            ProtocolRejectionReason.RequestIdInUse =>
                string.Create(culture, $"FCGI_BEGIN_REQUEST for request id {value}, which is still active."),
            ProtocolRejectionReason.ParamsTooLarge =>
                string.Create(culture, $"The PARAMS stream of request {value} is over the {available}-byte limit."),
            ProtocolRejectionReason.TooManyParams =>
                string.Create(culture, $"The PARAMS stream of request {value} holds more than {available} pairs."),
            ProtocolRejectionReason.ParamTooLong =>
                string.Create(culture, $"A PARAMS name or value of {value} bytes is over the {available}-byte limit."),
            ProtocolRejectionReason.InputTimedOut =>
                string.Create(culture, $"No input for {value} ms while a request waited for it."),
            _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, "Not a protocol rejection reason."),
        };
    }
}
