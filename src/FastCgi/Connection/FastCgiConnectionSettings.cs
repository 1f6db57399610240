using Microsoft.Extensions.Logging;

namespace FastCgi.Connection;

/// <summary>
/// How a <see cref="FastCgiConnection"/> behaves: its limits, whether it multiplexes, its timeouts, its clock and
/// logger, and the GET_VALUES answers. The Server layer builds one from its options and shares it between
/// connections; the connection knows nothing of server options, signals or sockets.
/// </summary>
internal sealed record FastCgiConnectionSettings
{
    /// <summary>Requests one connection may carry at once: 1 unless it multiplexes (spec 5.5, FCGI_CANT_MPX_CONN).</summary>
    public int MaxRequestsPerConnection { get; init; } = 1;

    /// <summary>Whether requests on one connection run concurrently (threading level 2, FCGI_MPXS_CONNS).</summary>
    public bool Multiplexed { get; init; }

    /// <summary>Most bytes of one request's PARAMS stream.</summary>
    public int MaxParamsBytes { get; init; } = 1024 * 1024;

    /// <summary>Most pairs in one PARAMS stream.</summary>
    public int MaxParamCount { get; init; } = 1000;

    /// <summary>Longest name or value in a PARAMS stream.</summary>
    public int MaxParamLength { get; init; } = 256 * 1024;

    /// <summary>Body bytes held per request while the application has not read them.</summary>
    public int MaxBufferedInputBytes { get; init; } = 256 * 1024;

    /// <summary>Largest STDIN stream of one request.</summary>
    public long MaxRequestBodyBytes { get; init; } = 2L * 1024 * 1024 * 1024;

    /// <summary>How long input may stall while a request waits for it, and a new connection for its first request.</summary>
    public TimeSpan InputTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a flush may wait for the web server to read.</summary>
    public TimeSpan WriteTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The clock of every timeout.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Where connection and request events go.</summary>
    public ILogger Logger { get; init; } = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    /// <summary>The FCGI_GET_VALUES answers (spec 4.1), by variable name.</summary>
    public IReadOnlyDictionary<string, string> GetValuesAnswers { get; init; } = new Dictionary<string, string>();

    /// <summary>Who grants request slots shared by all connections; by default every request is admitted.</summary>
    public IRequestAdmission Admission { get; init; } = UnlimitedAdmission.Instance;

    /// <summary>
    /// The Responder requests the server answers itself (its status and ping pages), or null. When set, a Responder
    /// request holds its slot of <see cref="Admission"/> uncounted until its PARAMS show whether it asks for a page,
    /// and one that finds every slot taken may wait for that in the admission's small reserve.
    /// </summary>
    public IServerPages? ServerPages { get; init; }

    private sealed class UnlimitedAdmission : IRequestAdmission
    {
        public static readonly UnlimitedAdmission Instance = new();

        public bool TryAdmit() => true;

        public void Leave()
        {
        }

        public bool TryHold() => true;

        public void Promote()
        {
        }

        public void Drop()
        {
        }

        public bool TryReserve() => true;

        public void Unreserve()
        {
        }

        public void Refused(ProtocolStatus status)
        {
        }
    }
}

/// <summary>Request slots shared by every connection of a server (FCGI_MAX_REQS, max_requests, draining).</summary>
internal interface IRequestAdmission
{
    /// <summary>Claims a slot; false refuses the request with FCGI_OVERLOADED.</summary>
    bool TryAdmit();

    /// <summary>Gives a claimed slot back.</summary>
    void Leave();

    /// <summary>Claims a slot without counting a request yet (<see cref="Promote"/>); false when none is free.</summary>
    bool TryHold();

    /// <summary>Makes a slot taken by <see cref="TryHold"/> a request's, counted as <see cref="TryAdmit"/> counts it.</summary>
    void Promote();

    /// <summary>Gives back a slot taken by <see cref="TryHold"/> and never counted (a status or ping request).</summary>
    void Drop();

    /// <summary>Claims a place in the small reserve for requests that may ask for a status page; false when it is full.</summary>
    bool TryReserve();

    /// <summary>Gives a place in the reserve back.</summary>
    void Unreserve();

    /// <summary>A request was refused with <paramref name="status"/> (FCGI_OVERLOADED or FCGI_CANT_MPX_CONN), for the server's figures.</summary>
    void Refused(ProtocolStatus status);
}

/// <summary>
/// Requests the server answers itself instead of the application: the Server layer's status and ping pages. Only
/// Responder requests are offered, when their PARAMS ended.
/// </summary>
internal interface IServerPages
{
    /// <summary>Whether the server answers <paramref name="request"/> itself; called on the read loop, allocates nothing.</summary>
    bool Serves(FastCgiRequestContext request);

    /// <summary>Answers a request <see cref="Serves"/> took, in place of the application.</summary>
    ValueTask ServeAsync(FastCgiRequestContext request);
}
