namespace FastCgi;

/// <summary>
/// Limits the server enforces on what web servers may make it hold. They are the real values GET_VALUES reports
/// (FCGI_MAX_CONNS, FCGI_MAX_REQS), so a web server that asks knows where the edge is.
/// </summary>
public sealed record FastCgiServerLimits
{
    /// <summary>The defaults.</summary>
    public static FastCgiServerLimits Default { get; } = new();

    /// <summary>
    /// Most concurrent connections (FCGI_MAX_CONNS); further connections wait in the listen backlog.
    /// Default 1024; always 1 at <see cref="ThreadingLevel.Sequential"/>.
    /// </summary>
    public int MaxConnections { get; init; } = 1024;

    /// <summary>
    /// Most concurrent requests in the process (FCGI_MAX_REQS); a request past it is refused with
    /// FCGI_OVERLOADED. Default 1024; always 1 at <see cref="ThreadingLevel.Sequential"/>.
    /// </summary>
    public int MaxConcurrentRequests { get; init; } = 1024;

    /// <summary>
    /// Most concurrent requests on one connection at <see cref="ThreadingLevel.Multiplexed"/>; a request past it
    /// is refused with FCGI_OVERLOADED. Default 256.
    /// </summary>
    public int MaxRequestsPerConnection { get; init; } = 256;

    /// <summary>
    /// Most bytes of one request's PARAMS stream (the CGI meta-variables; nginx sends about 1 KiB). A request past
    /// it closes the connection as protocol abuse. Default 1 MiB.
    /// </summary>
    public int MaxParamsBytes { get; init; } = 1024 * 1024;

    /// <summary>
    /// Bytes of request body (STDIN or DATA) held per request while the handler has not read them; past it the
    /// server stops reading from the connection until the handler catches up. Default 256 KiB.
    /// </summary>
    public int MaxBufferedInputBytes { get; init; } = 256 * 1024;
}
