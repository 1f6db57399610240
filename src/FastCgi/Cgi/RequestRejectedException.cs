namespace FastCgi.Cgi;

/// <summary>
/// The request itself is at fault (a form over a limit, a malformed body): the client gets
/// <see cref="StatusCode"/> with a short page instead of a 500, and the error log gets one line, not a stack trace.
/// </summary>
public class RequestRejectedException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="statusCode">The HTTP status the client gets (400, 413...).</param>
    /// <param name="message">What was wrong; it goes to the error log, never to the client.</param>
    public RequestRejectedException(int statusCode, string message) : base(message)
    {
        StatusCode = statusCode;
    }

    /// <summary>Creates a 400 rejection.</summary>
    public RequestRejectedException() : this(400, "Bad request.")
    {
    }

    /// <summary>Creates a 400 rejection with a message.</summary>
    public RequestRejectedException(string message) : this(400, message)
    {
    }

    /// <summary>Creates a 400 rejection with a message and its cause.</summary>
    public RequestRejectedException(string message, Exception innerException) : base(message, innerException)
    {
        StatusCode = 400;
    }

    /// <summary>A rejection by the library, for <paramref name="reason"/>.</summary>
    internal RequestRejectedException(RequestRejectionReason reason, int statusCode, string message) : base(message)
    {
        Reason = reason;
        StatusCode = statusCode;
    }

    /// <summary>The HTTP status the client gets.</summary>
    public int StatusCode { get; }

    /// <summary>
    /// Which limit the request went over, or what could not be parsed; <see cref="RequestRejectionReason.Unspecified"/>
    /// for a rejection thrown by application code.
    /// </summary>
    public RequestRejectionReason Reason { get; }
}
