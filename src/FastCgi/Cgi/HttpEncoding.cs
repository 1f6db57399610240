using System.Buffers;
using System.Text;

namespace FastCgi.Cgi;

/// <summary>jonpy's helpers: <c>html_encode</c>, <c>url_encode</c>, <c>url_decode</c>.</summary>
public static class HttpEncoding
{
    private static readonly SearchValues<char> HtmlSpecial = SearchValues.Create("&<>\"'+");

    // RFC 3986 section 2.3 unreserved characters; everything else is escaped.
    private static readonly SearchValues<byte> Unreserved =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"u8);

    /// <summary>
    /// Escapes <c>&amp; &lt; &gt; " ' +</c> as <c>&amp;amp; &amp;lt; &amp;gt; &amp;quot; &amp;#39; &amp;#43;</c>, so the
    /// text is safe in element content and in quoted attribute values.
    /// </summary>
    public static string HtmlEncode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var first = text.AsSpan().IndexOfAny(HtmlSpecial);
        if (first < 0)
        {
            return text;
        }

        var builder = new StringBuilder(text.Length + 16);
        var rest = text.AsSpan();
        while (first >= 0)
        {
            builder.Append(rest[..first]);
            builder.Append(rest[first] switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                _ => "&#43;",
            });
            rest = rest[(first + 1)..];
            first = rest.IndexOfAny(HtmlSpecial);
        }

        return builder.Append(rest).ToString();
    }

    /// <summary>
    /// Percent-encodes <paramref name="text"/> (in <paramref name="encoding"/>, UTF-8 by default) for a query string:
    /// the RFC 3986 unreserved characters (<c>A-Z a-z 0-9 - . _ ~</c>) stay, a space becomes <c>+</c>, and every other
    /// byte of the encoded text becomes <c>%XX</c> (uppercase hexadecimal).
    /// </summary>
    public static string UrlEncode(string text, Encoding? encoding = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        encoding ??= Encoding.UTF8;
        var rented = ArrayPool<byte>.Shared.Rent(encoding.GetMaxByteCount(text.Length));
        try
        {
            var bytes = rented.AsSpan(0, encoding.GetBytes(text, rented));
            var length = 0;
            foreach (var b in bytes)
            {
                length += Unreserved.Contains(b) || b == ' ' ? 1 : 3;
            }

            return string.Create(length, rented.AsMemory(0, bytes.Length), static (chars, source) =>
            {
                var i = 0;
                foreach (var b in source.Span)
                {
                    if (Unreserved.Contains(b))
                    {
                        chars[i++] = (char)b;
                    }
                    else if (b == ' ')
                    {
                        chars[i++] = '+';
                    }
                    else
                    {
                        chars[i++] = '%';
                        chars[i++] = PercentCoding.HexDigits[b >> 4];
                        chars[i++] = PercentCoding.HexDigits[b & 0xF];
                    }
                }
            });
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Decodes <c>+</c> to a space and each run of <c>%XX</c> escapes to bytes, which are then decoded with
    /// <paramref name="encoding"/> (UTF-8 by default; an invalid sequence becomes U+FFFD). A malformed escape
    /// (<c>%</c> not followed by two hexadecimal digits) is kept as it is; other characters are kept unchanged.
    /// </summary>
    public static string UrlDecode(string text, Encoding? encoding = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        return PercentCoding.Decode(text, plusIsSpace: true, encoding ?? Encoding.UTF8);
    }
}
