namespace FastCgi.Server;

/// <summary>
/// Keeps handlers that block their thread (blocking I/O, <see cref="Thread.Sleep(int)"/>, a wait) from starving
/// everyone else. Handlers that complete synchronously run inline on the thread pool, without a thread switch; the
/// pool adds threads only slowly (about one every half second) when all of its threads are stuck, so forty
/// blocked handlers would hold up every connection for seconds. This thread, owned by the library, sees the pool
/// stall and raises its minimum thread count, which makes the pool start the threads it needs at once, as jonpy's
/// thread per connection would have; once the pool has kept up for a while the minimum goes back.
/// </summary>
internal static class ThreadPoolGuard
{
    private const int ProbeIntervalMs = 10;

    // A probe this late means the pool's threads are all taken. Handlers must also have been in their synchronous
    // part this long on average, or it is a busy machine rather than blocked threads, which more threads would not
    // help; a probe later still is a stall whatever the cause (say, a handler blocking after an await).
    private const long StalledMs = 20;
    private const long StalledWhateverMs = 500;

    private const long RestoreAfterMs = 5000;

    private static readonly Lock Sync = new();
    private static Action[] _watchers = [];
    private static int _users;
    private static Thread? _thread;
    private static long _probeQueuedAt;
    private static volatile bool _probeDone = true;

    /// <summary>Starts guarding while at least one server runs.</summary>
    public static void Start()
    {
        lock (Sync)
        {
            if (_users++ == 0 && _thread is null)
            {
                _thread = new Thread(Run) { IsBackground = true, Name = "FastCgi thread pool guard" };
                _thread.Start();
            }
        }
    }

    public static void Stop()
    {
        lock (Sync)
        {
            _users--;
        }
    }

    /// <summary>Calls <paramref name="check"/> on every tick while the guard runs (the epoll loops' stall check).</summary>
    public static void Watch(Action check)
    {
        lock (Sync)
        {
            _watchers = [.. _watchers, check];
        }
    }

    public static void Unwatch(Action check)
    {
        lock (Sync)
        {
            _watchers = [.. _watchers.Where(watcher => watcher != check)];
        }
    }

    private static void Run()
    {
        ThreadPool.GetMinThreads(out var baseMin, out var baseIo);
        var raisedTo = 0;
        var healthySince = Environment.TickCount64;
        var compensatedAt = 0L;
        while (true)
        {
            lock (Sync)
            {
                if (_users == 0)
                {
                    Restore(ref raisedTo, baseMin, baseIo);
                    _thread = null;
                    return;
                }
            }

            foreach (var check in Volatile.Read(ref _watchers))
            {
                check();
            }

            var now = Environment.TickCount64;
            if (_probeDone)
            {
                if (raisedTo > 0 && now - healthySince > RestoreAfterMs)
                {
                    Restore(ref raisedTo, baseMin, baseIo);
                }

                _probeDone = false;
                _probeQueuedAt = now;
                ThreadPool.UnsafeQueueUserWorkItem(static _ => _probeDone = true, (object?)null, preferLocal: false);
            }
            else
            {
                var late = now - _probeQueuedAt;
                var (running, age) = ApplicationClock.Sample();
                var blocked = late > StalledMs && running > 0 && age > StalledMs;
                if ((blocked || late > StalledWhateverMs) && now - compensatedAt > StalledMs)
                {
                    // Enough threads for everything waiting, as if each of those blocked too, plus a core's worth.
                    ThreadPool.GetMaxThreads(out var max, out _);
                    var target = (int)Math.Min(max, ThreadPool.ThreadCount + ThreadPool.PendingWorkItemCount + Environment.ProcessorCount);
                    ThreadPool.GetMinThreads(out var min, out var io);
                    if (target > min && (raisedTo == 0 || min == raisedTo))
                    {
                        ThreadPool.SetMinThreads(target, io);
                        raisedTo = target;
                    }

                    compensatedAt = now;
                }

                healthySince = now;
            }

            Thread.Sleep(ProbeIntervalMs);
        }
    }

    /// <summary>Puts the minimum back, unless the application changed it meanwhile.</summary>
    private static void Restore(ref int raisedTo, int baseMin, int baseIo)
    {
        ThreadPool.GetMinThreads(out var min, out _);
        if (raisedTo > 0 && min == raisedTo)
        {
            ThreadPool.SetMinThreads(baseMin, baseIo);
        }

        raisedTo = 0;
    }
}
