using System.Text;

namespace FastCgi.Cgi.Output;

/// <summary>Serialises response headers as the head of a CGI response (RFC 3875 section 6.2).</summary>
internal static class HeaderBlock
{
    /// <summary>
    /// Writes <c>Name: value\r\n</c> for each header, then the empty line. Names and values are UTF-8: RFC 9110
    /// treats non-ASCII field bytes as opaque, and web servers pass them through. Indexed loops: a foreach over the
    /// interface would box the list's enumerator, twice per response.
    /// </summary>
    public static PooledBufferWriter Serialize(IReadOnlyList<KeyValuePair<string, string>> headers)
    {
        var size = 2;
        for (var i = 0; i < headers.Count; i++)
        {
            var header = headers[i];
            size += Encoding.UTF8.GetMaxByteCount(header.Key.Length + header.Value.Length) + 4;
        }

        var writer = new PooledBufferWriter(size);
        var span = writer.GetSpan(size);
        var at = 0;
        for (var i = 0; i < headers.Count; i++)
        {
            var header = headers[i];
            at += Encoding.UTF8.GetBytes(header.Key, span[at..]);
            span[at++] = (byte)':';
            span[at++] = (byte)' ';
            at += Encoding.UTF8.GetBytes(header.Value, span[at..]);
            span[at++] = (byte)'\r';
            span[at++] = (byte)'\n';
        }

        span[at++] = (byte)'\r';
        span[at++] = (byte)'\n';
        writer.Advance(at);
        return writer;
    }
}
