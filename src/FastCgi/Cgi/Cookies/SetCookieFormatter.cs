using System.Globalization;
using System.Text;
using FastCgi.Cgi.Output;

namespace FastCgi.Cgi.Cookies;

/// <summary>Formats a <c>Set-Cookie</c> header value (RFC 6265 section 4.1.1).</summary>
internal static class SetCookieFormatter
{
    /// <summary>
    /// Formats <c>name=value; attributes</c>. Every character of the value outside RFC 6265's cookie-octet, and
    /// <c>%</c> itself, is percent-encoded as UTF-8, so no value can inject attributes or headers and
    /// <see cref="CookieParser"/> gives the value back. Attributes come in the order Expires, Max-Age, Domain, Path,
    /// Secure, HttpOnly, SameSite, Partitioned.
    /// </summary>
    /// <exception cref="ArgumentException">The name is not an RFC 9110 token, or an attribute holds a control character or <c>;</c>.</exception>
    public static string Format(string name, string value, SetCookieOptions? options)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(value);
        if (name.Length == 0 || !HeaderValidator.IsToken(name))
        {
            throw new ArgumentException("A cookie name must be a non-empty HTTP token.", nameof(name));
        }

        var builder = new StringBuilder(name.Length + value.Length + 64).Append(name).Append('=');
        AppendValue(builder, value);
        if (options is null)
        {
            return builder.ToString();
        }

        if (options.Expires is { } expires)
        {
            // RFC 6265 section 5.1.1 wants the RFC 1123 date in GMT, which is exactly the "r" format.
            builder.Append("; Expires=").Append(expires.UtcDateTime.ToString("r", CultureInfo.InvariantCulture));
        }

        if (options.MaxAge is { } maxAge)
        {
            // Whole seconds; zero or negative is how a cookie is deleted (RFC 6265 section 5.2.2), so it is kept.
            builder.Append("; Max-Age=").Append((maxAge.Ticks / TimeSpan.TicksPerSecond).ToString(CultureInfo.InvariantCulture));
        }

        if (options.Domain is { } domain)
        {
            builder.Append("; Domain=").Append(domain);
        }

        if (options.Path is { } path)
        {
            builder.Append("; Path=").Append(path);
        }

        if (options.Secure)
        {
            builder.Append("; Secure");
        }

        if (options.HttpOnly)
        {
            builder.Append("; HttpOnly");
        }

        builder.Append(options.SameSite switch
        {
            CookieSameSite.Strict => "; SameSite=Strict",
            CookieSameSite.Lax => "; SameSite=Lax",
            CookieSameSite.None => "; SameSite=None",
            _ => "",
        });

        if (options.Partitioned)
        {
            builder.Append("; Partitioned");
        }

        return builder.ToString();
    }

    // cookie-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E: no CTLs, whitespace, DQUOTE, comma, semicolon
    // or backslash. '%' is allowed there but escaped too, so that decoding is unambiguous.
    private static bool IsPlainOctet(char c) =>
        c is >= '\x21' and <= '\x7E' and not '"' and not ',' and not ';' and not '\\' and not '%';

    private static void AppendValue(StringBuilder builder, string value)
    {
        Span<byte> utf8 = stackalloc byte[4];
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (IsPlainOctet(c))
            {
                builder.Append(c);
                continue;
            }

            // A surrogate pair is one scalar; a lone surrogate becomes U+FFFD, like any UTF-8 encoder would write it.
            var length = char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1])
                ? Encoding.UTF8.GetBytes(value.AsSpan(i++, 2), utf8)
                : Encoding.UTF8.GetBytes(value.AsSpan(i, 1), utf8);
            foreach (var b in utf8[..length])
            {
                builder.Append('%').Append(PercentCoding.HexDigits[b >> 4]).Append(PercentCoding.HexDigits[b & 0xF]);
            }
        }
    }
}
