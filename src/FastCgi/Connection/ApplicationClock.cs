namespace FastCgi.Connection;

/// <summary>
/// How many applications are inside the synchronous part of <see cref="IFastCgiApplication.ProcessRequestAsync"/>
/// right now, and since when on average: enough for the server's thread-pool guard to tell applications blocking
/// their threads from a pool that is merely busy, at two interlocked additions per request instead of a registry.
/// Measured by the connection, so every application model is covered, not only jonpy's handlers.
/// </summary>
internal static class ApplicationClock
{
    private static long _running;
    private static long _startSum;

    /// <summary>Call before running an application's code; pass the result to <see cref="Exit"/>.</summary>
    public static long Enter()
    {
        var now = Environment.TickCount64;
        Interlocked.Add(ref _startSum, now);
        Interlocked.Increment(ref _running);
        return now;
    }

    public static void Exit(long started)
    {
        Interlocked.Decrement(ref _running);
        Interlocked.Add(ref _startSum, -started);
    }

    /// <summary>
    /// The applications in their synchronous part and how long they have been there on average (ms); an application that
    /// blocks its thread soon makes the average large, one that never blocks keeps it near zero.
    /// </summary>
    public static (long Running, long AverageAge) Sample()
    {
        var running = Interlocked.Read(ref _running);
        var sum = Interlocked.Read(ref _startSum);
        return running <= 0 ? (0, 0) : (running, Environment.TickCount64 - sum / running);
    }
}
