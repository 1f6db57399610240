namespace FastCgi.Server;

/// <summary>
/// Marks the threads whose blocking the server makes up for (the epoll transport's loop threads: a loop blocked
/// too long is replaced). Code that would otherwise move blocking work to a thread of its own, such as jonpy's
/// synchronous <c>Handler.Process</c>, may run it right there.
/// </summary>
internal static class GuardedThread
{
    [ThreadStatic]
    private static bool _guarded;

    /// <summary>Whether the current thread is one whose blocking the server makes up for.</summary>
    public static bool IsCurrent => _guarded;

    /// <summary>Marks the current thread, for its lifetime.</summary>
    public static void Enter() => _guarded = true;
}
