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
    /// <c>--input-timeout SECONDS</c>, <c>--write-timeout SECONDS</c>, <c>--shutdown-timeout SECONDS</c>,
    /// <c>--status-path PATH</c>, <c>--ping-path PATH</c>, <c>--ping-response TEXT</c>.
    /// </summary>
    /// <remarks>
    /// A program that a web server runs as CGI (<c>GATEWAY_INTERFACE</c> is set, and neither systemd's sockets nor a
    /// listening socket on file descriptor 0 were passed to it: <see cref="FastCgiHost.IsStartedAsFastCgi"/>) may get the words of a query string without <c>=</c> as its last arguments (RFC 3875 section
    /// 4.4; Apache's mod_cgi passes them). The client chooses them, so they are never read as options, or
    /// <c>?--listen+0.0.0.0:9000</c> would make a request start a server; the arguments before them (a wrapper
    /// script's) are.
    /// </remarks>
    /// <exception cref="ArgumentException">An option is unknown or its value is invalid.</exception>
    public static FastCgiServerOptions FromCommandLine(IReadOnlyList<string> args, FastCgiServerOptions? defaults = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        var options = defaults ?? new FastCgiServerOptions();
        if (args.Count > 0 && Environment.GetEnvironmentVariable("GATEWAY_INTERFACE") is not null && !FastCgiHost.IsStartedAsFastCgi())
        {
            args = CgiCommandLine.WithoutSearchWords(args, Environment.GetEnvironmentVariable("QUERY_STRING"));
        }

        for (var i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
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
                "--unix-socket-mode" => options with { UnixSocketMode = ParseMode(Value()) },
                "--status-path" => options with { StatusPath = Value() },
                "--ping-path" => options with { PingPath = Value() },
                "--ping-response" => options with { PingResponse = Value() },
                _ => throw new ArgumentException($"Unknown option '{args[i]}'."),
            };
        }

        return options;
    }

    /// <summary>
    /// What <see cref="FromCommandLine"/> reads, one option a line, for an application's <c>--help</c> and its
    /// answer to an <see cref="ArgumentException"/> from <see cref="FromCommandLine"/>.
    /// </summary>
    public static string CommandLineHelp { get; } = """
          --listen ADDRESS                bind ADDRESS (HOST:PORT, [::1]:PORT or unix:/PATH) instead of systemd's sockets or fd 0
          --threading-level 0|1|2         0: one connection at a time; 1 (default): many connections, one request each;
                                          2: requests multiplexed on a connection
          --max-requests N                stop after N requests have begun, once they finish (default 0: no limit)
          --gzip                          compress responses when the client accepts gzip
          --unix-socket-mode OCTAL        the mode of the socket that --listen unix: creates
          --max-connections N             the most connections served at once (FCGI_MAX_CONNS)
          --max-concurrent-requests N     the most requests run at once (FCGI_MAX_REQS)
          --max-request-body-bytes N      the largest body (STDIN); over it the request gets 413
          --input-timeout SECONDS         how long a web server may stall while sending a request
          --write-timeout SECONDS         how long a web server may stall while reading a response
          --shutdown-timeout SECONDS      how long the requests in flight may take once asked to stop
          --status-path PATH              serve the status page at PATH (php-fpm's pm.status_path; ?json, ?openmetrics, ?full)
          --ping-path PATH                answer PATH with the ping response (php-fpm's ping.path)
          --ping-response TEXT            the ping page's body (default pong)

        """;

    private static ThreadingLevel ParseLevel(string text) => text switch
    {
        "0" => ThreadingLevel.Sequential,
        "1" => ThreadingLevel.PerConnection,
        "2" => ThreadingLevel.Multiplexed,
        _ => throw new ArgumentException($"--threading-level must be 0, 1 or 2, not '{text}'."),
    };

    private static UnixFileMode ParseMode(string text)
    {
        // Octal digits only, as chmod takes them; at most the permission and set-id bits.
        var mode = text.Length > 0 ? 0 : -1;
        foreach (var digit in text)
        {
            if (digit is < '0' or > '7' || (mode = (mode * 8) + (digit - '0')) > 0xFFF)
            {
                mode = -1;
                break;
            }
        }

        return mode >= 0 ? (UnixFileMode)mode : throw new ArgumentException($"--unix-socket-mode must be an octal mode such as 660, not '{text}'.");
    }

    private static int ParseCount(string text, string option) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new ArgumentException($"{option} must be a non-negative integer, not '{text}'.");
}
