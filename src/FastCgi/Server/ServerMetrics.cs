using System.Diagnostics.Metrics;

namespace FastCgi.Server;

/// <summary>
/// The host's figures as .NET metrics, on a <see cref="Meter"/> named <c>FastCgi.Server</c> (for
/// <c>dotnet-counters monitor -n APP --counters FastCgi.Server</c>, or OpenTelemetry's <c>AddMeter("FastCgi.Server")</c>).
/// Every instrument is observable: read when a listener collects, so a request pays nothing for them beyond the
/// counts the host keeps anyway. Names and units follow OpenTelemetry's conventions as Kestrel's do
/// (<c>kestrel.active_connections</c>).
/// </summary>
internal sealed class ServerMetrics : IDisposable
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "FastCgi.Server";

    private static readonly KeyValuePair<string, object?> Overloaded = new("fastcgi.protocol_status", "overloaded");
    private static readonly KeyValuePair<string, object?> CantMultiplex = new("fastcgi.protocol_status", "cant_mpx_conn");

    public ServerMetrics(HostStatistics statistics)
    {
        var requests = statistics.Requests;
        Meter = new Meter(MeterName, typeof(ServerMetrics).Assembly.GetName().Version?.ToString());
        Meter.CreateObservableCounter("fastcgi.accepted_connections", () => statistics.AcceptedConnections, "{connection}", "Connections accepted from web servers.");
        Meter.CreateObservableUpDownCounter("fastcgi.active_connections", () => statistics.ActiveConnections, "{connection}", "Connections being served.");
        Meter.CreateObservableCounter("fastcgi.rejected_connections", () => statistics.RejectedConnections, "{connection}", "Connections closed unserved: not from FCGI_WEB_SERVER_ADDRS.");
        Meter.CreateObservableCounter("fastcgi.accepted_requests", () => requests.Begun, "{request}", "Requests admitted to the application.");
        Meter.CreateObservableCounter("fastcgi.ended_requests", () => requests.Ended, "{request}", "Admitted requests that ended, answered or aborted.");
        Meter.CreateObservableUpDownCounter("fastcgi.active_requests", () => (long)requests.Active, "{request}", "Requests in flight.");
        Meter.CreateObservableGauge("fastcgi.max_active_requests", () => (long)requests.MaxActive, "{request}", "The most requests in flight at once since the server started.");
        Meter.CreateObservableCounter(
            "fastcgi.rejected_requests",
            () => (IEnumerable<Measurement<long>>)[new(requests.RefusedOverloaded, Overloaded), new(requests.RefusedCantMultiplex, CantMultiplex)],
            "{request}",
            "Requests refused with END_REQUEST, by protocol status.");
        Meter.CreateObservableUpDownCounter(
            "fastcgi.queued_connections",
            () => statistics.ReadListenQueue() is { } queue ? [new Measurement<long>(queue.Length)] : (IEnumerable<Measurement<long>>)[],
            "{connection}",
            "Connections waiting in the listen queue (Linux, TCP).");
        Meter.CreateObservableUpDownCounter(
            "fastcgi.queued_connections.limit",
            () => statistics.ReadListenQueue() is { } queue ? [new Measurement<long>(queue.Capacity)] : (IEnumerable<Measurement<long>>)[],
            "{connection}",
            "The most connections the listen queue holds (Linux, TCP).");
    }

    public Meter Meter { get; }

    public void Dispose() => Meter.Dispose();
}
