namespace FastCgi.Fuzz.Harnesses;

/// <summary>
/// The fuzz targets by name. Each harness returns normally or throws an exception the code under test is allowed
/// to throw only if it catches it itself; anything that escapes is a finding (an unexpected exception or a broken
/// invariant, reported as <see cref="FuzzInvariantException"/>).
/// </summary>
internal static class FuzzTargets
{
    /// <summary>Every target, in the order <c>scripts/fuzz.sh all</c> runs them.</summary>
    public static IReadOnlyList<string> Names { get; } = ["record-reader", "name-value", "url-form", "cookies", "multipart", "multipart-roundtrip", "percent", "connection-split"];

    public static bool IsTarget(string name) => Names.Contains(name, StringComparer.Ordinal);

    /// <summary>Runs one input through the harness of <paramref name="target"/>.</summary>
    public static void Run(string target, byte[] input)
    {
        switch (target)
        {
            case "record-reader":
                RecordReaderHarness.Run(input);
                break;
            case "name-value":
                NameValueHarness.Run(input);
                break;
            case "url-form":
                UrlFormHarness.Run(input);
                break;
            case "cookies":
                CookieHarness.Run(input);
                break;
            case "multipart":
                MultipartHarness.Run(input);
                break;
            case "multipart-roundtrip":
                MultipartRoundTripHarness.Run(input);
                break;
            case "percent":
                PercentHarness.Run(input);
                break;
            case "connection-split":
                ConnectionSplitHarness.Run(input);
                break;
            default:
                throw new ArgumentException("Unknown fuzz target: " + target, nameof(target));
        }
    }
}
