using System.Globalization;
using Microsoft.Extensions.Logging;

namespace FastCgi;

/// <summary>
/// How a <see cref="FastCgiServer"/> runs: the arguments of jonpy's <c>fcgi.Server</c> (<c>max_requests</c>, <c>params</c>,
/// <c>request_type</c>, <c>threading_level</c>) plus where to listen, limits and logging.
/// Every property has a documented default.
/// </summary>
public sealed record FastCgiServerOptions
{
    /// <summary>jonpy's <c>fcgi.Server</c> argument <c>threading_level</c>. Default <see cref="FastCgi.ThreadingLevel.PerConnection"/> (1).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined level.</exception>
    public ThreadingLevel ThreadingLevel
    {
        get;
        init
        {
            if (!Enum.IsDefined(value))
            {
                throw new ArgumentOutOfRangeException(nameof(ThreadingLevel), value, "The threading level is 0, 1 or 2.");
            }

            field = value;
        }
    } = ThreadingLevel.PerConnection;

    /// <summary>
    /// jonpy's <c>max_requests</c>: after this many requests have begun, the server stops accepting work, lets
    /// those requests finish and <see cref="FastCgiServer.Run"/> returns. Default 0: unlimited.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public int MaxRequests
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value, nameof(MaxRequests));
            field = value;
        }
    }

    /// <summary>
    /// jonpy's <c>params</c>: values answered to FCGI_GET_VALUES in place of the server's own
    /// (FCGI_MAX_CONNS, FCGI_MAX_REQS, FCGI_MPXS_CONNS), or in addition to them. Default none.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Params { get; init; }

    /// <summary>
    /// jonpy's <c>request_type=GZipRequest</c>: every request is a <see cref="GZipFastCgiRequest"/> (and a
    /// <see cref="GZipCgiRequest"/> under the CGI fallback). Default false.
    /// </summary>
    public bool GZip { get; init; }

    /// <summary>
    /// Where to listen instead of the socket inherited as file descriptor 0: <c>127.0.0.1:9000</c>,
    /// <c>[::1]:9000</c>, <c>*:9000</c>, or <c>unix:/path/to/socket</c>. Default none: use fd 0, or run as CGI
    /// when fd 0 is not a socket.
    /// </summary>
    /// <exception cref="ArgumentException">The value is empty or white space.</exception>
    public string? Listen
    {
        get;
        init
        {
            if (value is not null && string.IsNullOrWhiteSpace(value))
            {
                throw new ArgumentException("The listen address is empty; leave it null to use fd 0.", nameof(Listen));
            }

            field = value;
        }
    }

    /// <summary>The file mode of a Unix socket the server binds. Default 0660 (owner and group, e.g. the web server's).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value has bits beyond 07777.</exception>
    public UnixFileMode UnixSocketMode
    {
        get;
        init
        {
            // Permission, setuid, setgid and sticky bits only (07777).
            if (((int)value & ~0xFFF) != 0)
            {
                throw new ArgumentOutOfRangeException(nameof(UnixSocketMode), value, "A file mode is at most 07777.");
            }

            field = value;
        }
    } =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;

    /// <summary>
    /// The web servers allowed to connect over TCP. Default: <c>FCGI_WEB_SERVER_ADDRS</c> from the environment
    /// (comma-separated addresses), or anyone when it is not set.
    /// </summary>
    public string? WebServerAddresses { get; init; } = Environment.GetEnvironmentVariable("FCGI_WEB_SERVER_ADDRS");

    /// <summary>The limits the server enforces. Default <see cref="FastCgiServerLimits.Default"/>.</summary>
    /// <exception cref="ArgumentNullException">The value is null.</exception>
    public FastCgiServerLimits Limits
    {
        get;
        init
        {
            ArgumentNullException.ThrowIfNull(value, nameof(Limits));
            field = value;
        }
    } = FastCgiServerLimits.Default;

    /// <summary>The limits on each request's form, body and cookies. Default <see cref="RequestLimits.Default"/>.</summary>
    /// <exception cref="ArgumentNullException">The value is null.</exception>
    public RequestLimits RequestLimits
    {
        get;
        init
        {
            ArgumentNullException.ThrowIfNull(value, nameof(RequestLimits));
            field = value;
        }
    } = RequestLimits.Default;

    /// <summary>How long <see cref="FastCgiServer.Exit"/> lets requests in flight finish before aborting them. Default 30 s.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public TimeSpan ShutdownTimeout
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero, nameof(ShutdownTimeout));
            field = value;
        }
    } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Whether <see cref="FastCgiServer.Run"/> handles SIGTERM and SIGINT (drain, then return) and ignores SIGHUP
    /// while it serves FastCGI. Default true.
    /// </summary>
    public bool HandleSignals { get; init; } = true;

    /// <summary>
    /// Runs socket completions on the socket engine's I/O thread instead of handing them to the thread pool, so at
    /// threading levels 0 and 1 a request is read, handled and answered without a single thread switch (about a
    /// third less CPU per small request; see docs/performance.md). Only for handlers that never block: no
    /// synchronous I/O or waits, no synchronous <see cref="Request.Flush"/> or unbuffered synchronous
    /// <see cref="Request.Write(string)"/>; one blocking handler stalls every connection. It sets
    /// <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS</c>, which .NET reads once, so it applies when
    /// <see cref="FastCgiServer.Run"/> is the first code in the process to use a socket. Default false.
    /// </summary>
    public bool InlineCompletions { get; init; }

    /// <summary>Where the server logs connections, requests and protocol errors. Default none.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>
    /// Reads the standard command-line options over <paramref name="defaults"/>: <c>--listen ADDRESS</c>,
    /// <c>--threading-level 0|1|2</c>, <c>--max-requests N</c>, <c>--gzip</c>, <c>--unix-socket-mode OCTAL</c>,
    /// <c>--max-connections N</c>, <c>--max-concurrent-requests N</c>, <c>--max-request-body-bytes N</c>,
    /// <c>--input-timeout SECONDS</c>, <c>--write-timeout SECONDS</c>, <c>--shutdown-timeout SECONDS</c>,
    /// <c>--inline-completions</c>.
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
                "--gzip" => options with { GZip = true },
                "--inline-completions" => options with { InlineCompletions = true },
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
