using System.Text;
using FastCgi.Cgi;
using FastCgi.Cgi.Cookies;

namespace FastCgi.Fuzz.Harnesses;

/// <summary>
/// <see cref="CookieParser.Parse"/> over the input as <c>HTTP_COOKIE</c> (UTF-8), with small limits.
/// <see cref="RequestRejectedException"/> (431) is the only exception allowed.
/// </summary>
internal static class CookieHarness
{
    public static RequestLimits Limits { get; } = new()
    {
        MaxCookies = 8,
        MaxCookieHeaderBytes = 512,
    };

    public static void Run(byte[] input)
    {
        var header = Encoding.UTF8.GetString(input);
        IReadOnlyDictionary<string, string> cookies;
        try
        {
            cookies = CookieParser.Parse(header, Limits);
        }
        catch (RequestRejectedException e)
        {
            FuzzInvariantException.Check(e.StatusCode == 431, "A cookie header rejected with status " + e.StatusCode);
            return;
        }

        FuzzInvariantException.Check(cookies.Count <= Limits.MaxCookies, "More cookies than MaxCookies");
        foreach (var (name, value) in cookies)
        {
            FuzzInvariantException.Check(header.Contains(name, StringComparison.Ordinal), "A cookie name that is not in the header");
            FuzzInvariantException.Check(!name.Contains(';', StringComparison.Ordinal) && !name.Contains('=', StringComparison.Ordinal), "A cookie name holds ';' or '='");
            FuzzInvariantException.Check(name.Trim(' ') == name, "A cookie name keeps surrounding spaces");
            FuzzInvariantException.Check(value.Length <= header.Length, "A cookie value longer than the header");
        }
    }
}
