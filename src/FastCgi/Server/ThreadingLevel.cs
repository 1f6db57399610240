namespace FastCgi.Server;

/// <summary>
/// jonpy's <c>fcgi.Server</c> argument <c>threading_level</c>: how much a server does at once. In .NET these are tasks, not one OS thread
/// per request: a synchronous handler may block its thread, an asynchronous one holds none while it waits.
/// </summary>
public enum ThreadingLevel
{
    /// <summary>Level 0: one connection at a time, one request at a time.</summary>
    Sequential = 0,

    /// <summary>Level 1 (the default): concurrent connections, one request each.</summary>
    PerConnection = 1,

    /// <summary>Level 2: concurrent connections, each with multiplexed concurrent requests.</summary>
    Multiplexed = 2,
}
