using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace FastCgi.Server;

/// <summary>
/// The status and ping pages (php-fpm's <c>pm.status_path</c> and <c>ping.path</c>), answered by the host itself so
/// that every application has them and they never reach it: not counted as requests, and served while the
/// application's request slots are all taken. The status page comes as php-fpm's does: plain text, <c>?json</c>,
/// <c>?openmetrics</c>, and with <c>?full</c> the requests in flight (never a query string or a header).
/// </summary>
internal sealed class StatusPages : IServerPages
{
    // php-fpm sends both, so that no cache between the monitor and the application keeps a figure.
    private const string NoCache = "Expires: Thu, 01 Jan 1970 00:00:00 GMT\r\nCache-Control: no-cache, no-store, must-revalidate\r\n\r\n";

    private readonly byte[]? _statusPath;
    private readonly byte[]? _pingPath;
    private readonly byte[] _pingPage;
    private readonly HostStatistics _statistics;
    private readonly Func<IEnumerable<ServedConnection>> _connections;

    private StatusPages(FastCgiHostOptions options, HostStatistics statistics, Func<IEnumerable<ServedConnection>> connections)
    {
        _statusPath = options.StatusPath is { } status ? Encoding.UTF8.GetBytes(status) : null;
        _pingPath = options.PingPath is { } ping ? Encoding.UTF8.GetBytes(ping) : null;
        _pingPage = Encoding.UTF8.GetBytes("Content-Type: text/plain; charset=utf-8\r\n" + NoCache + options.PingResponse);
        _statistics = statistics;
        _connections = connections;
    }

    /// <summary>The pages <paramref name="options"/> ask for, or null when they ask for none.</summary>
    public static StatusPages? Create(FastCgiHostOptions options, HostStatistics statistics, Func<IEnumerable<ServedConnection>> connections) =>
        options.StatusPath is null && options.PingPath is null ? null : new StatusPages(options, statistics, connections);

    /// <inheritdoc />
    public bool Serves(FastCgiRequestContext request) => Page(request) is not null;

    /// <inheritdoc />
    public ValueTask ServeAsync(FastCgiRequestContext request)
    {
        // END_REQUEST carries the page out with it, in one send (FastCgiConnection.RunAsync completes the request).
        request.Output.Write(Page(request) == _pingPath ? _pingPage : StatusPage(Query(request)));
        return ValueTask.CompletedTask;
    }

    /// <summary>The page as the figures are now, for the query words given (<c>json</c>, <c>openmetrics</c>, <c>full</c>).</summary>
    internal byte[] StatusPage(IReadOnlyCollection<string> query)
    {
        var figures = StatusFigures.Read(_statistics);
        var full = query.Contains("full");
        var requests = full ? InFlight() : [];
        if (query.Contains("json"))
        {
            return Page("application/json", Json(figures, full ? requests : null));
        }

        if (query.Contains("openmetrics"))
        {
            return Page("application/openmetrics-text; version=1.0.0; charset=utf-8", Encoding.UTF8.GetBytes(OpenMetrics(figures)));
        }

        return Page("text/plain; charset=utf-8", Encoding.UTF8.GetBytes(Text(figures, full ? requests : null)));
    }

    private static byte[] Page(string contentType, byte[] body) => [.. Encoding.ASCII.GetBytes("Content-Type: " + contentType + "\r\n" + NoCache), .. body];

    private static string[] Query(FastCgiRequestContext request) =>
        request.Environ is { } environ && environ.TryGetRaw("QUERY_STRING"u8, out var query)
            ? Encoding.UTF8.GetString(query).Split('&', StringSplitOptions.RemoveEmptyEntries)
            : [];

    private static string Text(StatusFigures figures, IReadOnlyList<RequestInFlight>? requests)
    {
        var text = new StringBuilder();
        void Line(string label, object? value) =>
            text.Append(CultureInfo.InvariantCulture, $"{label + ":",-21}{value ?? "n/a"}\n");

        Line("start time", figures.StartTime.ToString("dd/MMM/yyyy:HH:mm:ss", CultureInfo.InvariantCulture) + " +0000");
        Line("start since", figures.SecondsSinceStart);
        Line("threading level", figures.ThreadingLevel);
        Line("accepted conn", figures.AcceptedConnections);
        Line("active conn", figures.ActiveConnections);
        Line("rejected conn", figures.RejectedConnections);
        Line("accepted requests", figures.BegunRequests);
        Line("ended requests", figures.EndedRequests);
        Line("active requests", figures.ActiveRequests);
        Line("max active requests", figures.MaxActiveRequests);
        Line("rejected requests", figures.RejectedRequests);
        Line("listen queue", figures.ListenQueue?.Length);
        Line("max listen queue", figures.ListenQueue is null ? null : figures.MaxListenQueue);
        Line("listen queue len", figures.ListenQueue?.Capacity);
        foreach (var request in requests ?? [])
        {
            text.Append("\n************************\n");
            Line("request id", request.Id);
            Line("connection", request.Connection);
            Line("role", request.Role);
            Line("state", request.State);
            Line("request method", request.Method);
            Line("request uri", request.Path);
            Line("request duration", request.DurationMicroseconds);
        }

        return text.ToString();
    }

    private static byte[] Json(StatusFigures figures, IReadOnlyList<RequestInFlight>? requests)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("start time", figures.StartTime.ToUnixTimeSeconds());
            json.WriteNumber("start since", figures.SecondsSinceStart);
            json.WriteNumber("threading level", figures.ThreadingLevel);
            json.WriteNumber("accepted conn", figures.AcceptedConnections);
            json.WriteNumber("active conn", figures.ActiveConnections);
            json.WriteNumber("rejected conn", figures.RejectedConnections);
            json.WriteNumber("accepted requests", figures.BegunRequests);
            json.WriteNumber("ended requests", figures.EndedRequests);
            json.WriteNumber("active requests", figures.ActiveRequests);
            json.WriteNumber("max active requests", figures.MaxActiveRequests);
            json.WriteNumber("rejected requests", figures.RejectedRequests);
            Number(json, "listen queue", figures.ListenQueue?.Length);
            Number(json, "max listen queue", figures.ListenQueue is null ? null : figures.MaxListenQueue);
            Number(json, "listen queue len", figures.ListenQueue?.Capacity);
            if (requests is not null)
            {
                json.WriteStartArray("requests");
                foreach (var request in requests)
                {
                    json.WriteStartObject();
                    json.WriteNumber("request id", request.Id);
                    json.WriteNumber("connection", request.Connection);
                    json.WriteString("role", request.Role);
                    json.WriteString("state", request.State);
                    json.WriteString("request method", request.Method);
                    json.WriteString("request uri", request.Path);
                    json.WriteNumber("request duration", request.DurationMicroseconds);
                    json.WriteEndObject();
                }

                json.WriteEndArray();
            }

            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void Number(Utf8JsonWriter json, string name, long? value)
    {
        if (value is { } number)
        {
            json.WriteNumber(name, number);
        }
        else
        {
            json.WriteNull(name);
        }
    }

    /// <summary>The OpenMetrics text exposition (a Prometheus scrape), named as the metrics (<see cref="ServerMetrics"/>).</summary>
    private static string OpenMetrics(StatusFigures figures)
    {
        var text = new StringBuilder();
        void Family(string name, string type, string help, string? unit = null)
        {
            text.Append(CultureInfo.InvariantCulture, $"# TYPE {name} {type}\n");
            if (unit is not null)
            {
                text.Append(CultureInfo.InvariantCulture, $"# UNIT {name} {unit}\n");
            }

            text.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n");
        }

        void Sample(string name, long value, string labels = "") => text.Append(CultureInfo.InvariantCulture, $"{name}{labels} {value}\n");

        Family("fastcgi_start_time_seconds", "gauge", "When the server started, in seconds since the Unix epoch.", "seconds");
        Sample("fastcgi_start_time_seconds", figures.StartTime.ToUnixTimeSeconds());
        Family("fastcgi_accepted_connections", "counter", "Connections accepted from web servers.");
        Sample("fastcgi_accepted_connections_total", figures.AcceptedConnections);
        Family("fastcgi_active_connections", "gauge", "Connections being served.");
        Sample("fastcgi_active_connections", figures.ActiveConnections);
        Family("fastcgi_rejected_connections", "counter", "Connections closed unserved: not from FCGI_WEB_SERVER_ADDRS.");
        Sample("fastcgi_rejected_connections_total", figures.RejectedConnections);
        Family("fastcgi_accepted_requests", "counter", "Requests admitted to the application.");
        Sample("fastcgi_accepted_requests_total", figures.BegunRequests);
        Family("fastcgi_ended_requests", "counter", "Admitted requests that ended, answered or aborted.");
        Sample("fastcgi_ended_requests_total", figures.EndedRequests);
        Family("fastcgi_active_requests", "gauge", "Requests in flight.");
        Sample("fastcgi_active_requests", figures.ActiveRequests);
        Family("fastcgi_max_active_requests", "gauge", "The most requests in flight at once since the server started.");
        Sample("fastcgi_max_active_requests", figures.MaxActiveRequests);
        Family("fastcgi_rejected_requests", "counter", "Requests refused with END_REQUEST, by protocol status.");
        Sample("fastcgi_rejected_requests_total", figures.RefusedOverloaded, "{protocol_status=\"overloaded\"}");
        Sample("fastcgi_rejected_requests_total", figures.RefusedCantMultiplex, "{protocol_status=\"cant_mpx_conn\"}");
        if (figures.ListenQueue is { } queue)
        {
            Family("fastcgi_queued_connections", "gauge", "Connections waiting in the listen queue.");
            Sample("fastcgi_queued_connections", queue.Length);
            Family("fastcgi_queued_connections_limit", "gauge", "The most connections the listen queue holds.");
            Sample("fastcgi_queued_connections_limit", queue.Capacity);
        }

        text.Append("# EOF\n");
        return text.ToString();
    }

    /// <summary>Which page <paramref name="request"/> asks for, by its URL path (<see cref="ParamsDictionary.UrlPath"/>); allocates nothing.</summary>
    private byte[]? Page(FastCgiRequestContext request)
    {
        if (request.Environ is not { } environ)
        {
            return null;
        }

        var path = environ.UrlPath(out var script, out var pathInfo);
        return Matches(_statusPath, path, script, pathInfo) ? _statusPath
            : Matches(_pingPath, path, script, pathInfo) ? _pingPath
            : null;
    }

    /// <summary>
    /// Whether both the path the client asked for (REQUEST_URI, raw) and the one the web server routed the request to
    /// (SCRIPT_NAME + PATH_INFO) are the page's, where the web server sends them (at least one). The raw path alone
    /// would serve the page through any location that rewrites to the application (a front controller, a catch-all
    /// rewrite), past a rule that guards the page's own location; the routed path alone would match an encoded
    /// spelling (/%73tatus) that such a rule may not see. php-fpm matches the routed path.
    /// </summary>
    private static bool Matches(byte[]? page, ReadOnlySpan<byte> path, ReadOnlySpan<byte> script, ReadOnlySpan<byte> pathInfo)
    {
        var routed = !script.IsEmpty || !pathInfo.IsEmpty;
        return page is not null
            && (routed || !path.IsEmpty)
            && (path.IsEmpty || path.SequenceEqual(page))
            && (!routed || (page.AsSpan().StartsWith(script) && page.AsSpan(script.Length).SequenceEqual(pathInfo)));
    }

    /// <summary>The application's requests in flight on every connection, oldest first; the pages' own are left out.</summary>
    private List<RequestInFlight> InFlight()
    {
        var time = _statistics.Time;
        var requests = new List<(long BegunAt, RequestInFlight Request)>();
        foreach (var served in _connections())
        {
            foreach (var request in served.Connection.Requests)
            {
                var begunAt = request.BegunAt;
                var state = request.State;
                if (request.ServedByServer || !request.TryReadTarget(out var method, out var path))
                {
                    continue;
                }

                var micros = (long)time.GetElapsedTime(begunAt).TotalMicroseconds;
                requests.Add((begunAt, new RequestInFlight(request.RequestId, served.Id, Name(request.Role), Name(state), method, path, micros)));
            }
        }

        return [.. requests.OrderBy(r => r.BegunAt).ThenBy(r => r.Request.Connection).Select(r => r.Request)];
    }

    private static string Name(Role role) => role switch
    {
        Role.Responder => "responder",
        Role.Authorizer => "authorizer",
        _ => "filter",
    };

    private static string Name(RequestState state) => state switch
    {
        RequestState.Starting => "starting",
        RequestState.Running => "running",
        _ => "ending",
    };

    /// <summary>One request in the <c>?full</c> listing.</summary>
    private sealed record RequestInFlight(int Id, long Connection, string Role, string State, string Method, string Path, long DurationMicroseconds);
}

/// <summary>The figures of the status page, read at one moment.</summary>
internal sealed record StatusFigures(
    DateTimeOffset StartTime,
    long SecondsSinceStart,
    int ThreadingLevel,
    long AcceptedConnections,
    long ActiveConnections,
    long RejectedConnections,
    long BegunRequests,
    long EndedRequests,
    long ActiveRequests,
    long MaxActiveRequests,
    long RefusedOverloaded,
    long RefusedCantMultiplex,
    Transports.ListenQueue? ListenQueue,
    long MaxListenQueue)
{
    public long RejectedRequests => RefusedOverloaded + RefusedCantMultiplex;

    public static StatusFigures Read(HostStatistics statistics)
    {
        var requests = statistics.Requests;
        var queue = statistics.ReadListenQueue();
        return new(
            statistics.StartTime,
            statistics.SecondsSinceStart,
            (int)statistics.ThreadingLevel,
            statistics.AcceptedConnections,
            statistics.ActiveConnections,
            statistics.RejectedConnections,
            requests.Begun,
            requests.Ended,
            requests.Active,
            requests.MaxActive,
            requests.RefusedOverloaded,
            requests.RefusedCantMultiplex,
            queue,
            statistics.MaxListenQueue);
    }
}
