namespace FastCgi.Connection;

/// <summary>
/// The threads whose blocking the server makes up for: the epoll transport's loop threads, where a loop blocked too
/// long is replaced by a new one. On such a thread a request can run right after the read that completed it, with
/// no thread switch, and jonpy's synchronous <c>Handler.Process</c> can run there instead of on a thread of its own.
/// </summary>
internal static class GuardedThread
{
    [ThreadStatic]
    private static IDeferredWork? _work;

    /// <summary>Whether the current thread is one whose blocking the server makes up for.</summary>
    public static bool IsCurrent => _work is not null;

    /// <summary>Marks the current thread, for its lifetime, with where its deferred work goes.</summary>
    public static void Enter(IDeferredWork work) => _work = work;

    /// <summary>
    /// Runs <paramref name="work"/> on this thread once the event being handled is done (the read loop has
    /// returned, so a request that blocks holds up neither its connection's records nor, once the loop is replaced,
    /// anyone else's). False when this is not such a thread or it defers nothing now (a handler blocked lately).
    /// </summary>
    public static bool TryDefer(IThreadPoolWorkItem work) => _work?.TryDefer(work) ?? false;
}

/// <summary>A loop thread's queue of work to run after the event it is handling.</summary>
internal interface IDeferredWork
{
    /// <summary>Queues <paramref name="work"/>, or returns false when the loop does not take work now.</summary>
    bool TryDefer(IThreadPoolWorkItem work);
}
