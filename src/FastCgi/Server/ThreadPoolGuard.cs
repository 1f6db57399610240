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
        var probe = default(ProbeClock);
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
            probe.Tick(now);
            if (_probeDone)
            {
                if (raisedTo > 0 && now - healthySince > RestoreAfterMs)
                {
                    Restore(ref raisedTo, baseMin, baseIo);
                }

                _probeDone = false;
                probe.Queued(now);
                ThreadPool.UnsafeQueueUserWorkItem(static _ => _probeDone = true, (object?)null, preferLocal: false);
            }
            else
            {
                var (running, age) = ApplicationClock.Sample();
                if (probe.Stalled(now, running, age) && now - compensatedAt > StalledMs)
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

    /// <summary>
    /// How late the pool's probe is, counting only the time the guard itself was scheduled. A tick that comes more
    /// than an interval late means the machine did not run the guard (other processes have the cores); the pool's
    /// threads did not run for the same reason, not because they are blocked, and more threads would only add to
    /// the load. As the epoll engine tells a loop that is asleep from one that is not given a core.
    /// </summary>
    internal struct ProbeClock
    {
        private long _queuedAt;
        private long _lastTick;
        private long _heldUp;

        /// <summary>Every tick of the guard, at <paramref name="now"/> (milliseconds).</summary>
        public void Tick(long now)
        {
            if (_lastTick != 0)
            {
                _heldUp += Math.Max(0, now - _lastTick - (2 * ProbeIntervalMs));
            }

            _lastTick = now;
        }

        /// <summary>A probe was queued at <paramref name="now"/>.</summary>
        public void Queued(long now)
        {
            _queuedAt = now;
            _heldUp = 0;
        }

        /// <summary>
        /// Whether the probe, still not run at <paramref name="now"/>, says the pool's threads are stuck:
        /// <paramref name="running"/> handlers in their synchronous part for <paramref name="age"/> ms on average.
        /// </summary>
        public readonly bool Stalled(long now, long running, long age)
        {
            var late = now - _queuedAt - _heldUp;
            return (late > StalledMs && running > 0 && age > StalledMs) || late > StalledWhateverMs;
        }
    }
}
