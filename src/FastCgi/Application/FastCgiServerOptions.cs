using System.Globalization;
using FastCgi.Cgi;
using FastCgi.Validation;

namespace FastCgi;

/// <summary>
/// How a <see cref="FastCgiServer"/> runs: everything a <see cref="FastCgiHostOptions"/> says (listening, threading
/// level, limits, timeouts, signals, logging), plus what jonpy's handler model adds: the request type (jonpy's
/// <c>request_type</c>) and the limits on each request's form, body and cookies. Every property has a documented
/// default.
/// </summary>
public sealed record FastCgiServerOptions : FastCgiHostOptions
{
    /// <summary>
    /// jonpy's <c>request_type</c>: the request class that serves each request, under FastCGI and under the CGI
    /// fallback alike. Default <see cref="FastCgi.RequestType.Default"/>; <see cref="FastCgi.RequestType.GZip"/>
    /// (<c>--gzip</c>) compresses responses.
    /// </summary>
    public RequestType RequestType { get; init; } = RequestType.Default;

    /// <summary>The limits on each request's form, body and cookies. Default <see cref="RequestLimits.Default"/>.</summary>
    /// <exception cref="ArgumentNullException">The value is null.</exception>
    public RequestLimits RequestLimits
    {
        get;
        init => field = OptionValidation.NotNull(value, nameof(RequestLimits));
    } = RequestLimits.Default;

    /// <summary>
    /// Reads the standard command-line options over <paramref name="defaults"/>: <c>--listen ADDRESS</c>,
    /// <c>--threading-level 0|1|2</c>, <c>--max-requests N</c>, <c>--gzip</c>, <c>--unix-socket-mode OCTAL</c>,
    /// <c>--max-connections N</c>, <c>--max-concurrent-requests N</c>, <c>--max-request-body-bytes N</c>,
    /// <c>--input-timeout SECONDS</c>, <c>--write-timeout SECONDS</c>, <c>--shutdown-timeout SECONDS</c>.
    /// </summary>
    /// <exception cref="ArgumentException">An option is unknown or its value is invalid.</exception>
    public static FastCgiServerOptions FromCommandLine(IReadOnlyList<string> args, FastCgiServerOptions? defaults = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        var options = defaults ?? new FastCgiServerOptions();
        for (var i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.", nameof(args));
            options = args[i] switch
            {
                "--listen" => options with { Listen = Value() },
                "--threading-level" => options with { ThreadingLevel = ParseLevel(Value()) },
                "--max-requests" => options with { MaxRequests = ParseCount(Value(), "--max-requests") },
                "--gzip" => options with { RequestType = RequestType.GZip },
                "--max-connections" => options with { Limits = options.Limits with { MaxConnections = ParseCount(Value(), "--max-connections") } },
                "--max-concurrent-requests" => options with { Limits = options.Limits with { MaxConcurrentRequests = ParseCount(Value(), "--max-concurrent-requests") } },
                "--max-request-body-bytes" => options with { Limits = options.Limits with { MaxRequestBodyBytes = ParseCount(Value(), "--max-request-body-bytes") } },
                "--input-timeout" => options with { Limits = options.Limits with { InputTimeout = TimeSpan.FromSeconds(ParseCount(Value(), "--input-timeout")) } },
                "--write-timeout" => options with { Limits = options.Limits with { WriteTimeout = TimeSpan.FromSeconds(ParseCount(Value(), "--write-timeout")) } },
                "--shutdown-timeout" => options with { ShutdownTimeout = TimeSpan.FromSeconds(ParseCount(Value(), "--shutdown-timeout")) },
                "--unix-socket-mode" => options with { UnixSocketMode = (UnixFileMode)Convert.ToInt32(Value(), 8) },
                _ => throw new ArgumentException($"Unknown option '{args[i]}'.", nameof(args)),
            };
        }

        return options;
    }

    private static ThreadingLevel ParseLevel(string text) => text switch
    {
        "0" => ThreadingLevel.Sequential,
        "1" => ThreadingLevel.PerConnection,
        "2" => ThreadingLevel.Multiplexed,
        _ => throw new ArgumentException($"--threading-level must be 0, 1 or 2, not '{text}'."),
    };

    private static int ParseCount(string text, string option) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new ArgumentException($"{option} must be a non-negative integer, not '{text}'.");
}
