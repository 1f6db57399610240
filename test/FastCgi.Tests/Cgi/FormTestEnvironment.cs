using System.Text;
using FastCgi.Cgi;
using FastCgi.Cgi.Forms;
using FastCgi.Testing;
using Xunit;

namespace FastCgi.Tests.Cgi;

/// <summary>Builds CGI meta-variables for a form request and runs <see cref="FormReader"/> on them.</summary>
internal static class FormTestEnvironment
{
    public static Task<Form> ReadAsync(Dictionary<string, string> environ, Stream body, RequestLimits? limits = null, Encoding? encoding = null) =>
        FormReader.ReadAsync(environ, body, encoding ?? Encoding.UTF8, limits ?? RequestLimits.Default, TestContext.Current.CancellationToken).AsTask();

    public static Task<Form> ReadQueryAsync(string query, RequestLimits? limits = null, Encoding? encoding = null) =>
        ReadAsync(CgiVariables.Bare(query), Stream.Null, limits, encoding);

    /// <summary>A POST with a URL-encoded body and a CONTENT_LENGTH.</summary>
    public static Task<Form> PostUrlEncodedAsync(string body, string? query = null, RequestLimits? limits = null, Encoding? encoding = null)
    {
        var bytes = (encoding ?? Encoding.UTF8).GetBytes(body);
        return ReadAsync(CgiVariables.Bare(query, "POST", "application/x-www-form-urlencoded", bytes.Length), new MemoryStream(bytes), limits, encoding);
    }

    /// <summary>A part's body as UTF-8 text, read back through <see cref="FormPart.OpenRead"/>.</summary>
    public static string ReadText(FormPart part)
    {
        using var stream = part.OpenRead();
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
