namespace FastCgi.Server;

/// <summary>
/// How many handlers are inside their synchronous part right now, and since when on average: enough for
/// <see cref="ThreadPoolGuard"/> to tell handlers blocking their threads from a pool that is merely busy,
/// at two interlocked additions per call instead of a registry.
/// </summary>
internal static class HandlerClock
{
    private static long _running;
    private static long _startSum;

    /// <summary>Call before running a handler's code; pass the result to <see cref="Exit"/>.</summary>
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
    /// The handlers in their synchronous part and how long they have been there on average (ms); a handler that
    /// blocks its thread soon makes the average large, one that never blocks keeps it near zero.
    /// </summary>
    public static (long Running, long AverageAge) Sample()
    {
        var running = Interlocked.Read(ref _running);
        var sum = Interlocked.Read(ref _startSum);
        return running <= 0 ? (0, 0) : (running, Environment.TickCount64 - sum / running);
    }
}
