namespace FastCgi.Protocol;

/// <summary>
/// Why the web server's bytes broke the protocol. Each member is a connection-level violation: the connection
/// is closed, because the byte stream can no longer be trusted to be in step.
/// </summary>
internal enum ProtocolRejectionReason
{
    /// <summary>A record header's version byte is not 1 (spec 3.3): not FastCGI 1.0, or out of step.</summary>
    UnsupportedVersion,

    /// <summary>An <c>FCGI_BEGIN_REQUEST</c> body is shorter than 8 bytes (spec 5.1).</summary>
    InvalidBeginRequestBody,

    /// <summary>A name or value length runs past the bytes that remain (spec 3.4).</summary>
    NameValueLengthPastContent,

    /// <summary>Name-value data ends inside, or right before, a length prefix (spec 3.4).</summary>
    NameValueTruncated,

    /// <summary>The input ended inside a record: the web server closed the connection mid-record (spec 3.3).</summary>
    TruncatedRecord,

    /// <summary><c>FCGI_BEGIN_REQUEST</c> for a request id that is still active (spec 5.1: the id must not be in use).</summary>
    RequestIdInUse,

    /// <summary>A request's PARAMS stream is over <see cref="FastCgiServerLimits.MaxParamsBytes"/>.</summary>
    ParamsTooLarge,

    /// <summary>A request's PARAMS stream holds more than <see cref="FastCgiServerLimits.MaxParamCount"/> pairs.</summary>
    TooManyParams,

    /// <summary>A name or value in PARAMS is longer than <see cref="FastCgiServerLimits.MaxParamLength"/>.</summary>
    ParamTooLong,

    /// <summary>The web server sent nothing for <see cref="FastCgiServerLimits.InputTimeout"/> while a request waited for input.</summary>
    InputTimedOut,
}
