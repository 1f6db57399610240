using System.Text;

namespace FastCgi.Cgi.Forms;

/// <summary>Parses a request's form: the query string plus a URL-encoded or multipart body.</summary>
internal static class FormReader
{
    /// <summary>
    /// Reads the form from <c>QUERY_STRING</c> and, for a body with a form content type, from <paramref name="body"/>.
    /// </summary>
    /// <exception cref="RequestRejectedException">413 when a limit is exceeded, 400 when the body is malformed.</exception>
    public static ValueTask<Form> ReadAsync(IReadOnlyDictionary<string, string> environ, Stream body, Encoding encoding, RequestLimits limits, CancellationToken cancellationToken)
    {
        throw new NotImplementedException();
    }
}
