using System.Text;

namespace FastCgi;

/// <summary>The seed's helpers: <c>html_encode</c>, <c>url_encode</c>, <c>url_decode</c>.</summary>
public static class HttpEncoding
{
    /// <summary>Escapes <c>&amp; &lt; &gt; " ' +</c> as HTML character references.</summary>
    public static string HtmlEncode(string text)
    {
        throw new NotImplementedException();
    }

    /// <summary>
    /// Percent-encodes <paramref name="text"/> (in <paramref name="encoding"/>, UTF-8 by default) for a query string:
    /// unreserved characters stay, a space becomes <c>+</c>, everything else <c>%XX</c>.
    /// </summary>
    public static string UrlEncode(string text, Encoding? encoding = null)
    {
        throw new NotImplementedException();
    }

    /// <summary>
    /// Decodes <c>+</c> to a space and <c>%XX</c> to the byte, then the bytes with <paramref name="encoding"/>
    /// (UTF-8 by default). A malformed escape (<c>%</c> not followed by two hex digits) is kept as it is.
    /// </summary>
    public static string UrlDecode(string text, Encoding? encoding = null)
    {
        throw new NotImplementedException();
    }
}
