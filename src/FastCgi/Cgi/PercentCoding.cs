using System.Buffers;
using System.Text;

namespace FastCgi.Cgi;

/// <summary>
/// Percent-decoding shared by the form parser, the cookie parser and <see cref="HttpEncoding"/>: forms also turn
/// <c>+</c> into a space (HTML's application/x-www-form-urlencoded), cookies and RFC 8187 values do not.
/// </summary>
internal static class PercentCoding
{
    /// <summary>Uppercase hexadecimal digits, as RFC 3986 section 2.1 recommends for escapes.</summary>
    public const string HexDigits = "0123456789ABCDEF";

    private static readonly SearchValues<char> PercentOrPlus = SearchValues.Create("%+");

    /// <summary>
    /// Decodes <c>%XX</c> escapes (and <c>+</c> when <paramref name="plusIsSpace"/>). Runs of escapes are decoded as
    /// bytes with <paramref name="encoding"/>; other characters are kept as they are, so text that arrived already
    /// decoded (an environment variable) is not put through a second, possibly lossy, encoding. A malformed escape
    /// stays literal.
    /// </summary>
    public static string Decode(ReadOnlySpan<char> text, bool plusIsSpace, Encoding encoding)
    {
        var first = plusIsSpace ? text.IndexOfAny(PercentOrPlus) : text.IndexOf('%');
        if (first < 0)
        {
            return new string(text);
        }

        // Each escaped byte takes three characters, so text.Length / 3 bytes always suffice.
        var bytes = ArrayPool<byte>.Shared.Rent(text.Length / 3 + 1);
        var chars = ArrayPool<char>.Shared.Rent(text.Length);
        try
        {
            text[..first].CopyTo(chars);
            var written = first;
            var i = first;
            while (i < text.Length)
            {
                var c = text[i];
                if (c == '%' && TryHexByte(text, i, out _))
                {
                    var count = 0;
                    while (i < text.Length && TryHexByte(text, i, out var value))
                    {
                        bytes[count++] = value;
                        i += 3;
                    }

                    var run = bytes.AsSpan(0, count);
                    var needed = written + encoding.GetCharCount(run);
                    if (needed > chars.Length)
                    {
                        chars = Grow(chars, written, needed);
                    }

                    written += encoding.GetChars(run, chars.AsSpan(written));
                    continue;
                }

                if (c == '+' && plusIsSpace)
                {
                    chars[written++] = ' ';
                    i++;
                    continue;
                }

                // A literal run up to the next special character (or a malformed '%', kept as it is).
                var rest = text[(i + 1)..];
                var next = plusIsSpace ? rest.IndexOfAny(PercentOrPlus) : rest.IndexOf('%');
                var length = next < 0 ? text.Length - i : next + 1;
                if (written + length > chars.Length)
                {
                    chars = Grow(chars, written, written + length);
                }

                text.Slice(i, length).CopyTo(chars.AsSpan(written));
                written += length;
                i += length;
            }

            return new string(chars, 0, written);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
            ArrayPool<char>.Shared.Return(chars);
        }
    }

    /// <summary>
    /// Decodes <c>%XX</c> escapes (and <c>+</c> when <paramref name="plusIsSpace"/>) in place: decoding only shrinks,
    /// so a body read into a buffer is decoded without a copy. Returns the decoded length.
    /// </summary>
    public static int DecodeInPlace(Span<byte> data, bool plusIsSpace)
    {
        var read = plusIsSpace ? data.IndexOfAny((byte)'%', (byte)'+') : data.IndexOf((byte)'%');
        if (read < 0)
        {
            return data.Length;
        }

        var written = read;
        while (read < data.Length)
        {
            var b = data[read];
            if (b == '%' && read + 2 < data.Length && TryHex(data[read + 1], out var high) && TryHex(data[read + 2], out var low))
            {
                data[written++] = (byte)((high << 4) | low);
                read += 3;
            }
            else if (b == '+' && plusIsSpace)
            {
                data[written++] = (byte)' ';
                read++;
            }
            else
            {
                var rest = data[(read + 1)..];
                var next = plusIsSpace ? rest.IndexOfAny((byte)'%', (byte)'+') : rest.IndexOf((byte)'%');
                var length = next < 0 ? data.Length - read : next + 1;
                data.Slice(read, length).CopyTo(data[written..]);
                written += length;
                read += length;
            }
        }

        return written;
    }

    private static bool TryHex(int b, out int value)
    {
        value = b switch
        {
            >= '0' and <= '9' => b - '0',
            >= 'A' and <= 'F' => b - 'A' + 10,
            >= 'a' and <= 'f' => b - 'a' + 10,
            _ => -1,
        };
        return value >= 0;
    }

    private static bool TryHexByte(ReadOnlySpan<char> text, int percent, out byte value)
    {
        value = 0;
        if (percent + 2 >= text.Length || text[percent] != '%' || !TryHex(text[percent + 1], out var high) || !TryHex(text[percent + 2], out var low))
        {
            return false;
        }

        value = (byte)((high << 4) | low);
        return true;
    }

    private static char[] Grow(char[] chars, int written, int needed)
    {
        var bigger = ArrayPool<char>.Shared.Rent(Math.Max(needed, chars.Length * 2));
        chars.AsSpan(0, written).CopyTo(bigger);
        ArrayPool<char>.Shared.Return(chars);
        return bigger;
    }
}
