using System.Text;
using FastCgi.Cgi;
using FastCgi.Cgi.Forms;

namespace FastCgi.Fuzz.Harnesses;

/// <summary>
/// The text codecs over the input as UTF-8: <see cref="HttpEncoding"/> round trips, <see cref="PercentCoding"/>'s
/// string and in-place decoders against each other on ASCII text, and the header-parameter parsers. No exception
/// is allowed.
/// </summary>
internal static class PercentHarness
{
    private static readonly char[] HtmlSpecial = ['<', '>', '"', '\'', '+'];

    public static void Run(byte[] input)
    {
        var text = Encoding.UTF8.GetString(input);
        FuzzInvariantException.Check(HttpEncoding.UrlDecode(HttpEncoding.UrlEncode(text)) == text, "UrlDecode(UrlEncode(text)) is not text");
        FuzzInvariantException.Check(HttpEncoding.HtmlEncode(text).IndexOfAny(HtmlSpecial) < 0, "HtmlEncode left a special character");

        if (Ascii.IsValid(input))
        {
            foreach (var plusIsSpace in new[] { true, false })
            {
                var copy = input.ToArray();
                var length = PercentCoding.DecodeInPlace(copy, plusIsSpace);
                FuzzInvariantException.Check(length >= 0 && length <= input.Length, "DecodeInPlace grew the data");
                foreach (var encoding in new[] { Encoding.UTF8, Encoding.Latin1 })
                {
                    FuzzInvariantException.Check(
                        PercentCoding.Decode(text, plusIsSpace, encoding) == encoding.GetString(copy, 0, length),
                        "Decode and DecodeInPlace disagree");
                }
            }
        }

        var parameters = HeaderParameters.Parse(text);
        FuzzInvariantException.Check(!parameters.Value.Contains(';', StringComparison.Ordinal), "A header value runs past its ';'");
        parameters.Get("boundary");
        ExtendedParameterValue.TryDecode(text, out _);
    }
}
