namespace FastCgi.Cgi.Forms;

/// <summary>
/// A header value with parameters, <c>value; name=token; name="quoted \" string"</c>: the syntax Content-Type
/// (RFC 9110 section 5.6.6) and Content-Disposition (RFC 6266 section 4.1) share.
/// </summary>
internal sealed class HeaderParameters
{
    private readonly List<KeyValuePair<string, string>> _parameters;

    private HeaderParameters(string value, List<KeyValuePair<string, string>> parameters)
    {
        Value = value;
        _parameters = parameters;
    }

    /// <summary>What comes before the first <c>;</c> (a media type, a disposition type), trimmed.</summary>
    public string Value { get; }

    /// <summary>Parses the header value. Parameters without <c>=</c> are skipped; an unterminated quoted string runs to the end.</summary>
    /// <param name="header">The header value.</param>
    /// <param name="backslashEscapes">
    /// Whether a backslash in a quoted string quotes the next character (RFC 9110 section 5.6.4). Browsers' form
    /// data does not use them: there a backslash is itself (a Windows path) and the quote mark is <c>%22</c>.
    /// </param>
    public static HeaderParameters Parse(string header, bool backslashEscapes = true)
    {
        var text = header.AsSpan();
        var semicolon = text.IndexOf(';');
        var value = (semicolon < 0 ? text : text[..semicolon]).Trim(" \t").ToString();
        var parameters = new List<KeyValuePair<string, string>>();
        var i = semicolon < 0 ? text.Length : semicolon + 1;
        while (i < text.Length)
        {
            var rest = text[i..];
            var end = rest.IndexOfAny(';', '=');
            if (end < 0 || rest[end] == ';')
            {
                i += end < 0 ? rest.Length : end + 1;
                continue;
            }

            var name = rest[..end].Trim(" \t").ToString();
            i += end + 1;
            while (i < text.Length && text[i] is ' ' or '\t')
            {
                i++;
            }

            string parameterValue;
            if (i < text.Length && text[i] == '"')
            {
                parameterValue = ReadQuoted(text, ref i, backslashEscapes);
                var next = text[i..].IndexOf(';');
                i = next < 0 ? text.Length : i + next + 1;
            }
            else
            {
                var next = text[i..].IndexOf(';');
                var token = next < 0 ? text[i..] : text.Slice(i, next);
                parameterValue = token.Trim(" \t").ToString();
                i = next < 0 ? text.Length : i + next + 1;
            }

            parameters.Add(new(name, parameterValue));
        }

        return new HeaderParameters(value, parameters);
    }

    /// <summary>The first parameter of that name (case-insensitive, RFC 9110 section 5.6.6), or <c>null</c>.</summary>
    public string? Get(string name)
    {
        foreach (var parameter in _parameters)
        {
            if (string.Equals(parameter.Key, name, StringComparison.OrdinalIgnoreCase))
            {
                return parameter.Value;
            }
        }

        return null;
    }

    // RFC 9110 section 5.6.4: a backslash quotes the next character. Leaves i after the closing quote.
    private static string ReadQuoted(ReadOnlySpan<char> text, ref int i, bool backslashEscapes)
    {
        i++;
        var start = i;
        var closing = backslashEscapes ? text[start..].IndexOfAny('"', '\\') : text[start..].IndexOf('"');
        if (closing < 0 && !backslashEscapes)
        {
            i = text.Length;
            return text[start..].ToString();
        }

        if (closing >= 0 && text[start + closing] == '"')
        {
            i = start + closing + 1;
            return text.Slice(start, closing).ToString();
        }

        var builder = new System.Text.StringBuilder();
        while (i < text.Length)
        {
            var c = text[i++];
            if (c == '"')
            {
                break;
            }

            if (c == '\\' && i < text.Length)
            {
                c = text[i++];
            }

            builder.Append(c);
        }

        return builder.ToString();
    }
}
