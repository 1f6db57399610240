using System.Text;

namespace FastCgi.Cgi;

/// <summary>
/// The command line of a program run as CGI. A query string without <c>=</c> is a search: the server may pass its
/// <c>+</c>-separated words, percent-decoded, as the program's arguments (RFC 3875 section 4.4), and Apache's mod_cgi
/// does, escaping shell metacharacters with a backslash. The client chooses those words, so they are never options.
/// </summary>
internal static class CgiCommandLine
{
    /// <summary>
    /// <paramref name="args"/> without the search words of <paramref name="queryString"/> at their end, when they are
    /// there; what comes before them (a wrapper script's own options) stays.
    /// </summary>
    public static IReadOnlyList<string> WithoutSearchWords(IReadOnlyList<string> args, string? queryString)
    {
        if (string.IsNullOrEmpty(queryString) || queryString.Contains('=', StringComparison.Ordinal))
        {
            return args;
        }

        var words = queryString.Split('+');
        var start = args.Count - words.Length;
        if (start < 0)
        {
            return args;
        }

        for (var i = 0; i < words.Length; i++)
        {
            var word = PercentCoding.Decode(words[i], plusIsSpace: false, Encoding.UTF8);
            if (args[start + i] != word && Unescaped(args[start + i]) != word)
            {
                return args;
            }
        }

        return args.Take(start).ToArray();
    }

    /// <summary>The text with each backslash escape replaced by the character it escapes.</summary>
    private static string Unescaped(string text)
    {
        var result = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\\' && i + 1 < text.Length)
            {
                i++;
            }

            result.Append(text[i]);
        }

        return result.ToString();
    }
}
