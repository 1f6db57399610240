namespace FastCgi.Connection;

/// <summary>
/// What a read of <see cref="FastCgiRequestContext.Body"/> throws once the web server sent more than the server's
/// body limit (<c>MaxRequestBodyBytes</c>); the rest of the body is dropped. jonpy's handler model answers it with
/// 413 Content Too Large.
/// </summary>
public sealed class RequestBodyTooLargeException : IOException
{
    /// <summary>An exception with a default message.</summary>
    public RequestBodyTooLargeException()
        : base("The request body is over the server's limit.")
    {
    }

    /// <summary>An exception with <paramref name="message"/>.</summary>
    public RequestBodyTooLargeException(string message)
        : base(message)
    {
    }

    /// <summary>An exception with <paramref name="message"/> caused by <paramref name="innerException"/>.</summary>
    public RequestBodyTooLargeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>An exception for a body over <paramref name="limit"/> bytes.</summary>
    public RequestBodyTooLargeException(long limit)
        : base($"The request body is over MaxRequestBodyBytes ({limit} bytes).")
    {
        Limit = limit;
    }

    /// <summary>The limit the body passed, in bytes.</summary>
    public long Limit { get; }
}
