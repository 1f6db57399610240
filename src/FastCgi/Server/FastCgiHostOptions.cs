using FastCgi.Validation;
using Microsoft.Extensions.Logging;

namespace FastCgi.Server;

/// <summary>
/// How a <see cref="FastCgiHost"/> runs: where it listens, how much it does at once, its limits, timeouts,
/// signals and logging (jonpy's <c>fcgi.Server</c> arguments <c>max_requests</c>, <c>params</c> and
/// <c>threading_level</c> among them). Every property has a documented default; none has an effect on the process
/// until a host runs with it.
/// </summary>
public record FastCgiHostOptions
{
    /// <summary>jonpy's <c>threading_level</c>. Default <see cref="ThreadingLevel.PerConnection"/> (1).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined level.</exception>
    public ThreadingLevel ThreadingLevel
    {
        get;
        init => field = OptionValidation.Defined(value, nameof(ThreadingLevel), "The threading level is 0, 1 or 2.");
    } = ThreadingLevel.PerConnection;

    /// <summary>
    /// jonpy's <c>max_requests</c>: after this many requests have begun, the host stops accepting work, lets those
    /// requests finish and returns. Default 0: unlimited.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public int MaxRequests
    {
        get;
        init => field = OptionValidation.NotNegative(value, nameof(MaxRequests));
    }

    /// <summary>
    /// jonpy's <c>params</c>: values answered to FCGI_GET_VALUES in place of the host's own (FCGI_MAX_CONNS,
    /// FCGI_MAX_REQS, FCGI_MPXS_CONNS), or in addition to them. Default none.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Params { get; init; }

    /// <summary>
    /// Where to listen instead of the inherited sockets: <c>127.0.0.1:9000</c>, <c>[::1]:9000</c>, <c>*:9000</c>, or
    /// <c>unix:/path/to/socket</c>. Default none: use the sockets systemd's socket activation passes
    /// (<c>LISTEN_FDS</c>), else fd 0 (and when neither is there, <see cref="FastCgiServer"/> runs as CGI).
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

    /// <summary>The file mode of a Unix socket the host binds. Default 0660 (owner and group, e.g. the web server's).</summary>
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

    /// <summary>The limits the host enforces. Default <see cref="FastCgiServerLimits.Default"/>.</summary>
    /// <exception cref="ArgumentNullException">The value is null.</exception>
    public FastCgiServerLimits Limits
    {
        get;
        init => field = OptionValidation.NotNull(value, nameof(Limits));
    } = FastCgiServerLimits.Default;

    /// <summary>How long stopping lets requests in flight finish before aborting them. Default 30 s.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public TimeSpan ShutdownTimeout
    {
        get;
        init => field = OptionValidation.NotNegative(value, nameof(ShutdownTimeout));
    } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Whether the host handles SIGTERM and SIGINT (drain, then return) and ignores SIGHUP while it serves FastCGI.
    /// Default true.
    /// </summary>
    public bool HandleSignals { get; init; } = true;

    /// <summary>
    /// Where the host logs connections, requests, protocol errors, timeouts and blocked I/O threads; null logs nothing.
    /// Default: warnings and errors on standard error, a line each with the UTC time, the level and the category (the
    /// web server's error log under CGI and mod_fcgid, the service manager's otherwise). Set a factory of your own
    /// (<c>LoggerFactory.Create(...)</c>) for other levels or destinations.
    /// </summary>
    public ILoggerFactory? LoggerFactory { get; init; } = StandardErrorLoggerFactory.Instance;

    /// <summary>
    /// The URL path of the status page the host serves itself, as php-fpm's <c>pm.status_path</c>: the server's
    /// figures (connections, requests, the listen queue) as text, or <c>?json</c>, <c>?openmetrics</c>, and with
    /// <c>?full</c> the requests in flight. Matched exactly against the path of REQUEST_URI (raw, without the query
    /// string), or SCRIPT_NAME followed by PATH_INFO when the web server sends no REQUEST_URI; only Responder
    /// requests. Restrict it in the web server (docs/deployment.md). Default null: no status page.
    /// </summary>
    /// <exception cref="ArgumentException">The value does not start with '/', or has a '?', '#', white space or a control character.</exception>
    public string? StatusPath
    {
        get;
        init => field = PagePath(value, nameof(StatusPath));
    }

    /// <summary>
    /// The URL path of the ping page the host serves itself, as php-fpm's <c>ping.path</c>: <see cref="PingResponse"/>
    /// with status 200, for a health check through the web server. Matched as <see cref="StatusPath"/>. Default null:
    /// no ping page.
    /// </summary>
    /// <exception cref="ArgumentException">The value does not start with '/', or has a '?', '#', white space or a control character.</exception>
    public string? PingPath
    {
        get;
        init => field = PagePath(value, nameof(PingPath));
    }

    /// <summary>The body of the ping page (<c>text/plain</c>), as php-fpm's <c>ping.response</c>. Default <c>pong</c>.</summary>
    /// <exception cref="ArgumentNullException">The value is null.</exception>
    public string PingResponse
    {
        get;
        init => field = OptionValidation.NotNull(value, nameof(PingResponse));
    } = "pong";

    /// <summary>The clock of every timeout (input, write, shutdown, the lingering close). Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    private static string? PagePath(string? value, string name)
    {
        if (value is not null && (!value.StartsWith('/') || value.Any(c => c is '?' or '#' || char.IsWhiteSpace(c) || char.IsControl(c))))
        {
            throw new ArgumentException($"{name} '{value}' must be a URL path: it starts with '/' and has no '?', '#', white space or control character.", name);
        }

        return value;
    }
}
