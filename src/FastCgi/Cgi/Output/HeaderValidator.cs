using System.Buffers;

namespace FastCgi.Cgi.Output;

/// <summary>Keeps response headers from splitting the response (CWE-113).</summary>
internal static class HeaderValidator
{
    // RFC 9110 tchar, searched vectorized rather than a character at a time.
    private static readonly SearchValues<char> TokenChars =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    /// <summary>Checks that the name is an RFC 9110 token and the value holds no CR, LF or NUL.</summary>
    /// <exception cref="ArgumentException">Either is invalid.</exception>
    public static void Validate(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(value);
        if (name.Length == 0 || !IsToken(name))
        {
            throw new ArgumentException($"Header name '{Printable(name)}' is not an HTTP token.", nameof(name));
        }

        ValidateValue(name, value);
    }

    /// <summary>Checks that the value of header <paramref name="name"/>, a name the library wrote, holds no CR, LF or NUL.</summary>
    /// <exception cref="ArgumentException">The value is invalid.</exception>
    public static void ValidateValue(string name, string value)
    {
        if (value.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0)
        {
            throw new ArgumentException($"The value of header '{name}' holds CR, LF or NUL.", nameof(value));
        }
    }

    /// <summary>RFC 9110 section 5.6.2: tchar = "!" / "#" / "$" / "%" / "&amp;" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA.</summary>
    public static bool IsToken(ReadOnlySpan<char> text) => !text.ContainsAnyExcept(TokenChars);

    private static string Printable(string text) =>
        text.Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal).Replace("\0", "\\0", StringComparison.Ordinal);
}
