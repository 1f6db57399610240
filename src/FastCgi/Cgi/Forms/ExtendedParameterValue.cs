using System.Text;

namespace FastCgi.Cgi.Forms;

/// <summary>
/// Decodes an RFC 8187 (formerly RFC 5987) extended parameter value, <c>charset'language'%XX...</c>, as sent in
/// <c>filename*=</c> by some clients.
/// </summary>
internal static class ExtendedParameterValue
{
    /// <summary>Decodes the value; <c>false</c> when it is malformed or its charset is neither UTF-8 nor ISO-8859-1 (the two RFC 8187 requires).</summary>
    public static bool TryDecode(string value, out string decoded)
    {
        decoded = "";
        var firstQuote = value.IndexOf('\'', StringComparison.Ordinal);
        var secondQuote = firstQuote < 0 ? -1 : value.IndexOf('\'', firstQuote + 1);
        if (secondQuote < 0)
        {
            return false;
        }

        var charset = value.AsSpan(0, firstQuote);
        Encoding encoding;
        if (charset.Equals("UTF-8", StringComparison.OrdinalIgnoreCase))
        {
            encoding = Encoding.UTF8;
        }
        else if (charset.Equals("ISO-8859-1", StringComparison.OrdinalIgnoreCase))
        {
            encoding = Encoding.Latin1;
        }
        else
        {
            return false;
        }

        decoded = PercentCoding.Decode(value.AsSpan(secondQuote + 1), plusIsSpace: false, encoding);
        return true;
    }
}
