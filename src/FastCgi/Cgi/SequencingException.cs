namespace FastCgi;

/// <summary>
/// Thrown when a <see cref="Request"/> method is called out of order: changing headers after they were sent,
/// writing after <see cref="Request.Close"/>, clearing output that is not buffered, and so on.
/// This is jonpy's <c>SequencingError</c>: calls out of order are an error, never silently ignored.
/// </summary>
public sealed class SequencingException : InvalidOperationException
{
    /// <summary>Creates the exception with a message that says which call came out of order.</summary>
    public SequencingException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with a generic message.</summary>
    public SequencingException() : base("Request method called out of order.")
    {
    }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    public SequencingException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
