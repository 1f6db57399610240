using System.Globalization;
using Microsoft.Extensions.Logging;

namespace FastCgi.AspNetCore;

/// <summary>
/// How the ASP.NET Core FastCGI server runs, set in code (<c>UseFastCgi(options =&gt; ...)</c>) or in the
/// <c>FastCgi</c> section of the configuration (appsettings.json, environment <c>FastCgi__Listen</c>, command line
/// <c>--FastCgi:Listen</c>). Every property left unset keeps the library's default (<see cref="FastCgiHostOptions"/>,
/// <see cref="FastCgiServerLimits"/>). Checked when the host starts; an invalid value stops it with a message
/// naming the setting.
/// </summary>
public sealed class FastCgiOptions
{
    /// <summary>The configuration section the options are read from.</summary>
    public const string SectionName = "FastCgi";

    /// <summary>
    /// Where to listen: <c>127.0.0.1:9000</c>, <c>[::1]:9000</c>, <c>*:9000</c> or <c>unix:/run/app.sock</c>. Setting it
    /// makes the application serve FastCGI; unset, it does so only when file descriptor 0 is a listening socket.
    /// </summary>
    public string? Listen { get; set; }

    /// <summary>The file mode of a Unix socket the server binds, in octal (<c>660</c>, <c>0666</c>). Default 660.</summary>
    public string? UnixSocketMode { get; set; }

    /// <summary>jonpy's threading level: 0 one request at a time, 1 one per connection (default), 2 multiplexed.</summary>
    public int? ThreadingLevel { get; set; }

    /// <summary>The roles served. Default <see cref="FastCgiRoles.Responder"/>.</summary>
    public FastCgiRoles Roles { get; set; } = FastCgiRoles.Responder;

    /// <summary>
    /// The path an Authorizer request is served at (e.g. <c>/authorize</c>), so one endpoint of the application
    /// answers them; the original target stays in <c>RawTarget</c>. Unset: Authorizer requests go through the
    /// application at their own path (the whole application authorizes).
    /// </summary>
    public string? AuthorizerPath { get; set; }

    /// <summary>The web servers allowed to connect over TCP (comma-separated). Default: <c>FCGI_WEB_SERVER_ADDRS</c>.</summary>
    public string? WebServerAddresses { get; set; }

    /// <summary>After this many requests the server drains and the application stops (jonpy's max_requests). 0: no limit.</summary>
    public int? MaxRequests { get; set; }

    /// <summary>Most concurrent web server connections (FCGI_MAX_CONNS).</summary>
    public int? MaxConnections { get; set; }

    /// <summary>Most concurrent requests (FCGI_MAX_REQS).</summary>
    public int? MaxConcurrentRequests { get; set; }

    /// <summary>Most requests at once on one connection at threading level 2.</summary>
    public int? MaxRequestsPerConnection { get; set; }

    /// <summary>Most bytes of one request's PARAMS stream.</summary>
    public int? MaxParamsBytes { get; set; }

    /// <summary>
    /// The default of <c>IHttpMaxRequestBodySizeFeature.MaxRequestBodySize</c>, in bytes (null: no limit of
    /// ASP.NET Core's own; the server's 2 GiB still holds). Default 30,000,000, as Kestrel's.
    /// </summary>
    public long? MaxRequestBodySize { get; set; } = 30_000_000;

    /// <summary>How long PARAMS may take and request input may stall.</summary>
    public TimeSpan? InputTimeout { get; set; }

    /// <summary>How long a write may wait for the web server to read.</summary>
    public TimeSpan? WriteTimeout { get; set; }

    /// <summary>How long stopping lets requests in flight finish.</summary>
    public TimeSpan? ShutdownTimeout { get; set; }

    /// <summary>
    /// The URL path of the status page the server answers itself, before the application (php-fpm's
    /// <c>pm.status_path</c>; <see cref="FastCgiHostOptions.StatusPath"/>). Default none.
    /// </summary>
    public string? StatusPath { get; set; }

    /// <summary>The URL path of the ping page the server answers itself (php-fpm's <c>ping.path</c>). Default none.</summary>
    public string? PingPath { get; set; }

    /// <summary>The ping page's body. Default <c>pong</c>.</summary>
    public string? PingResponse { get; set; }

    /// <summary>
    /// Whether <c>HttpContext.User</c> is set from the web server's <c>REMOTE_USER</c> and <c>AUTH_TYPE</c>
    /// (or an authorizer's <c>AUTH_USER</c>) when present. Default true.
    /// </summary>
    public bool UseRemoteUser { get; set; } = true;

    /// <summary>The problems of these options, one sentence each; empty when they are valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Listen is not null && ListenError(Listen) is { } listenError)
        {
            errors.Add(listenError);
        }

        if (UnixSocketMode is not null && ParseMode(UnixSocketMode) is null)
        {
            errors.Add($"FastCgi:UnixSocketMode '{UnixSocketMode}' is not an octal file mode of at most 7777 (e.g. 660).");
        }

        if (ThreadingLevel is < 0 or > 2)
        {
            errors.Add($"FastCgi:ThreadingLevel {ThreadingLevel} is not 0, 1 or 2.");
        }

        if (Roles == FastCgiRoles.None || (Roles & ~(FastCgiRoles.Responder | FastCgiRoles.Authorizer | FastCgiRoles.Filter)) != 0)
        {
            errors.Add($"FastCgi:Roles '{Roles}' must name at least one of Responder, Authorizer, Filter.");
        }

        if (AuthorizerPath is not null && !AuthorizerPath.StartsWith('/'))
        {
            errors.Add($"FastCgi:AuthorizerPath '{AuthorizerPath}' must start with '/'.");
        }

        if (AuthorizerPath is not null && (Roles & FastCgiRoles.Authorizer) == 0)
        {
            errors.Add("FastCgi:AuthorizerPath is set but FastCgi:Roles does not include Authorizer.");
        }

        foreach (var (name, path) in new[] { (nameof(StatusPath), StatusPath), (nameof(PingPath), PingPath) })
        {
            if (path is not null && (!path.StartsWith('/') || path.Any(c => c is '?' or '#' || char.IsWhiteSpace(c) || char.IsControl(c))))
            {
                errors.Add($"FastCgi:{name} '{path}' must be a URL path: it starts with '/' and has no '?', '#', white space or control character.");
            }
        }

        if (StatusPath is not null && StatusPath == PingPath)
        {
            errors.Add($"FastCgi:StatusPath and FastCgi:PingPath are both '{StatusPath}'.");
        }

        Positive(errors, nameof(MaxConnections), MaxConnections);
        Positive(errors, nameof(MaxConcurrentRequests), MaxConcurrentRequests);
        Positive(errors, nameof(MaxRequestsPerConnection), MaxRequestsPerConnection);
        Positive(errors, nameof(MaxParamsBytes), MaxParamsBytes);
        NotNegative(errors, nameof(MaxRequests), MaxRequests, " (0 means no limit)");
        NotNegative(errors, nameof(MaxRequestBodySize), MaxRequestBodySize, " (leave it unset for no limit)");
        Positive(errors, nameof(InputTimeout), InputTimeout);
        Positive(errors, nameof(WriteTimeout), WriteTimeout);
        NotNegative(errors, nameof(ShutdownTimeout), ShutdownTimeout, "");

        return errors;
    }

    /// <summary>The library's host options these make; call only on valid options.</summary>
    internal FastCgiHostOptions ToHostOptions(ILoggerFactory loggerFactory)
    {
        var defaults = new FastCgiHostOptions();
        var limits = FastCgiServerLimits.Default;
        limits = limits with
        {
            MaxConnections = MaxConnections ?? limits.MaxConnections,
            MaxConcurrentRequests = MaxConcurrentRequests ?? limits.MaxConcurrentRequests,
            MaxRequestsPerConnection = MaxRequestsPerConnection ?? limits.MaxRequestsPerConnection,
            MaxParamsBytes = MaxParamsBytes ?? limits.MaxParamsBytes,
            InputTimeout = InputTimeout ?? limits.InputTimeout,
            WriteTimeout = WriteTimeout ?? limits.WriteTimeout,
        };
        return defaults with
        {
            Listen = Listen,
            UnixSocketMode = UnixSocketMode is null ? defaults.UnixSocketMode : ParseMode(UnixSocketMode)!.Value,
            ThreadingLevel = ThreadingLevel is { } level ? (FastCgi.Server.ThreadingLevel)level : defaults.ThreadingLevel,
            WebServerAddresses = WebServerAddresses ?? defaults.WebServerAddresses,
            MaxRequests = MaxRequests ?? 0,
            ShutdownTimeout = ShutdownTimeout ?? defaults.ShutdownTimeout,
            Limits = limits,
            StatusPath = StatusPath,
            PingPath = PingPath,
            PingResponse = PingResponse ?? defaults.PingResponse,

            // The ASP.NET Core host owns SIGTERM and SIGINT (it stops the server, which drains).
            HandleSignals = false,
            LoggerFactory = loggerFactory,
        };
    }

    private static void Positive<T>(List<string> errors, string name, T? value)
        where T : struct, IComparable<T>
    {
        if (value is { } v && v.CompareTo(default) <= 0)
        {
            errors.Add($"FastCgi:{name} {v} must be greater than zero.");
        }
    }

    private static void NotNegative<T>(List<string> errors, string name, T? value, string note)
        where T : struct, IComparable<T>
    {
        if (value is { } v && v.CompareTo(default) < 0)
        {
            errors.Add($"FastCgi:{name} {v} is negative{note}.");
        }
    }

    private static UnixFileMode? ParseMode(string text)
    {
        try
        {
            var mode = Convert.ToInt32(text, 8);
            return mode is >= 0 and <= 0xFFF ? (UnixFileMode)mode : null;
        }
        catch (Exception exception) when (exception is FormatException or ArgumentException or OverflowException)
        {
            return null;
        }
    }

    private static string? ListenError(string listen)
    {
        if (listen.StartsWith("unix:", StringComparison.Ordinal))
        {
            return listen.Length > "unix:".Length ? null : "FastCgi:Listen 'unix:' has no socket path.";
        }

        var colon = listen.LastIndexOf(':');
        var host = colon > 0 ? listen[..colon] : "";
        var portText = colon > 0 ? listen[(colon + 1)..] : "";
        var hostValid = host == "*" || System.Net.IPAddress.TryParse(host.Trim('[', ']'), out _);
        var portValid = int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and <= 65535;
        return hostValid && portValid
            ? null
            : $"FastCgi:Listen '{listen}' is not an address to listen on: IP:PORT, [IPv6]:PORT, *:PORT or unix:PATH.";
    }
}
