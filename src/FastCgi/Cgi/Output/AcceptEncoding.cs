using System.Globalization;

namespace FastCgi.Cgi.Output;

/// <summary>Reads <c>Accept-Encoding</c> (RFC 9110 section 12.5.3).</summary>
internal static class AcceptEncoding
{
    /// <summary>
    /// Whether gzip is acceptable: a <c>gzip</c> (or <c>x-gzip</c>) entry with a non-zero weight, or, when gzip is
    /// not named, a <c>*</c> entry with a non-zero weight.
    /// </summary>
    public static bool AllowsGZip(string? header)
    {
        if (string.IsNullOrEmpty(header))
        {
            return false;
        }

        double? gzip = null;
        double? any = null;
        foreach (var entry in header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = entry.Split(';', StringSplitOptions.TrimEntries);
            var weight = 1.0;
            for (var i = 1; i < parts.Length; i++)
            {
                var parameter = parts[i];
                if (parameter.StartsWith("q=", StringComparison.OrdinalIgnoreCase)
                    && !double.TryParse(parameter.AsSpan(2), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out weight))
                {
                    weight = 0;
                }
            }

            if (parts[0].Equals("gzip", StringComparison.OrdinalIgnoreCase) || parts[0].Equals("x-gzip", StringComparison.OrdinalIgnoreCase))
            {
                gzip = Math.Max(gzip ?? 0, weight);
            }
            else if (parts[0] == "*")
            {
                any = weight;
            }
        }

        return (gzip ?? any ?? 0) > 0;
    }
}
