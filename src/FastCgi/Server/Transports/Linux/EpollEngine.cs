using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace FastCgi.Server.Transports.Linux;

/// <summary>
/// The server's own I/O loop on Linux: one epoll set, one loop thread per core, and the application run right on
/// the loop thread that saw its request arrive, with no thread switch (as a C server does it). A handler that blocks
/// would stall every connection of its loop thread, so the <see cref="ThreadPoolGuard"/> thread checks the loops:
/// one that has spent <see cref="StallMs"/> asleep on a single event (a blocking call in the application) is
/// replaced by a new loop thread, which takes over the rest of its batch of events, and for a while (doubling with
/// each stall, back to 1 s after as long without one) events are handed to the thread pool instead of being run
/// inline, and the server's log says so, once per such period. A loop that is still running after
/// <see cref="BusyMs"/> (a long computation, or a core shared with other processes) is replaced too, without that
/// caution unless it is found asleep on the same event later (a blocking call that a loaded machine ran late).
/// Applications that never block get the inline speed; one that blocks costs the others one stall, then runs as
/// the thread pool would run it.
/// </summary>
internal sealed unsafe class EpollEngine : IDisposable
{
    /// <summary>How long one event may hold a loop thread before the loop is replaced.</summary>
    public const int StallMs = 10;

    /// <summary>How long one event may keep a loop thread running (not asleep) before the loop is replaced.</summary>
    public const int BusyMs = 100;

    private const int MaxEvents = 64;
    private const ulong WakeToken = ulong.MaxValue;

    private static readonly long StallTicks = Stopwatch.Frequency * StallMs / 1000;
    private static readonly long BusyTicks = Stopwatch.Frequency * BusyMs / 1000;
    private static readonly long MaxCautiousTicks = Stopwatch.Frequency * 300;

    private readonly int _epoll;
    private readonly int _wake;
    private readonly Lock _sync = new();
    private readonly List<Loop> _loops = [];
    private readonly List<(Loop Loop, long Started)> _retiredRunning = [];
    private readonly Stack<int> _freeSlots = new();
    private EpollConnection?[] _slots = new EpollConnection?[64];
    private uint[] _generations = new uint[64];
    private int _slotCount;
    private volatile bool _stopping;
    private readonly ILogger _logger;
    private readonly StallCaution _caution = new(Stopwatch.Frequency, MaxCautiousTicks);
    private long _cautiousUntil;
    private TimeSpan _lastPause;
    private bool _skippedLastTick;

    private EpollEngine(int epoll, int wake, ILogger logger)
    {
        _epoll = epoll;
        _wake = wake;
        _logger = logger;
        lock (_sync)
        {
            for (var i = 0; i < Environment.ProcessorCount; i++)
            {
                StartLoop(stolen: null);
            }
        }

        ThreadPoolGuard.Watch(CheckStalls);
    }

    /// <summary>How many times a loop thread was found stalled (a blocking handler); for tests and the log.</summary>
    public int Stalls { get; private set; }

    /// <summary>An engine, or null where there is no epoll (not Linux); <paramref name="logger"/> hears of stalls.</summary>
    public static EpollEngine? TryCreate(ILogger logger)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        var epoll = Native.EpollCreate();
        if (epoll < 0)
        {
            return null;
        }

        var wake = Native.EventFd();
        if (wake < 0 || Native.EpollAdd(epoll, wake, Native.EPOLLIN, WakeToken) != 0)
        {
            Native.Close(epoll);
            return null;
        }

        return new EpollEngine(epoll, wake, logger);
    }

    /// <summary>Serves <paramref name="socket"/> (just accepted) on this engine.</summary>
    public EpollConnection Accept(Socket socket, TimeProvider time)
    {
        var connection = new EpollConnection(this, socket, time);
        ulong token;
        lock (_sync)
        {
            if (!_freeSlots.TryPop(out var slot))
            {
                if (_slotCount == _slots.Length)
                {
                    Array.Resize(ref _slots, _slots.Length * 2);
                    Array.Resize(ref _generations, _generations.Length * 2);
                }

                slot = _slotCount++;
            }

            token = ((ulong)_generations[slot] << 32) | (uint)slot;
            connection.Token = token;
            Volatile.Write(ref _slots[slot], connection);
        }

        // Edge-triggered: an event per arrival, no re-arming call per read (the connection reads until the socket is empty).
        if (Native.EpollAdd(_epoll, connection.Descriptor, Native.EPOLLIN | Native.EPOLLOUT | Native.EPOLLRDHUP | Native.EPOLLET, token) != 0)
        {
            var error = Native.LastError;
            Remove(connection);
            connection.Dispose();
            throw new SocketException(error);
        }

        return connection;
    }

    /// <summary>Stops delivering events to <paramref name="connection"/>; an event already taken from epoll finds its slot empty.</summary>
    public void Remove(EpollConnection connection)
    {
        var slot = (int)(uint)connection.Token;
        lock (_sync)
        {
            if (_slots[slot] != connection)
            {
                return;
            }

            using (var lease = connection.LeaseDescriptor())
            {
                if (lease.Held)
                {
                    Native.EpollDelete(_epoll, connection.Descriptor);
                }
            }

            _slots[slot] = null;
            _generations[slot]++;
            _freeSlots.Push(slot);
        }
    }

    public void Dispose()
    {
        ThreadPoolGuard.Unwatch(CheckStalls);
        _stopping = true;
        Thread[] threads;
        lock (_sync)
        {
            threads = [.. _loops.Select(loop => loop.Thread)];
        }

        foreach (var thread in threads)
        {
            if (thread != Thread.CurrentThread)
            {
                // Each write wakes at least one waiting loop thread, which exits instead of waiting again.
                long one = 1;
                Native.Write(_wake, (byte*)&one, sizeof(long));
                thread.Join();
            }
        }

        Native.Close(_wake);
        Native.Close(_epoll);
    }

    /// <summary>
    /// Called every few milliseconds by the guard thread: a loop thread that has been on one event for more than
    /// <see cref="StallMs"/> is blocked in application code. It is retired (it exits when the application returns),
    /// a new loop thread takes its place and the rest of its batch, and events go to the thread pool for a while.
    /// </summary>
    private void CheckStalls()
    {
        var now = Stopwatch.GetTimestamp();

        // A garbage collection suspends every thread, asleep on the runtime's lock: not the application blocking.
        // A tick that saw one decides nothing (but never two in a row, so collections every tick cannot hide a
        // handler that really blocks: it is still blocked at the next tick).
        var paused = GC.GetTotalPauseDuration();
        var collected = paused != _lastPause;
        _lastPause = paused;
        if (collected && !_skippedLastTick)
        {
            _skippedLastTick = true;
            return;
        }

        _skippedLastTick = false;

        var warnFor = 0L;
        lock (_sync)
        {
            for (var i = _loops.Count - 1; i >= 0; i--)
            {
                var loop = _loops[i];
                var started = Volatile.Read(ref loop.EventStartedAt);
                if (started == 0 || now - started < StallTicks || _stopping)
                {
                    continue;
                }

                // Asleep: the application blocks, and will again. Running: a long computation, or a loaded machine
                // that has not given the loop a core for a while, which more threads would not help at once.
                // A loop that finished that event meanwhile may be asleep in epoll_wait: not a stall (retired there, it
                // would still handle the batch that wait returns, with nobody watching it).
                var asleep = Native.IsSleeping(loop.ThreadId);
                if ((!asleep && now - started < BusyTicks) || Volatile.Read(ref loop.EventStartedAt) != started)
                {
                    continue;
                }

                loop.Retire();
                _loops.RemoveAt(i);
                if (asleep)
                {
                    Stall(now, ref warnFor);
                }
                else
                {
                    _retiredRunning.Add((loop, started));
                }

                StartLoop(stolen: Volatile.Read(ref loop.CurrentBatch));
            }

            // A loop retired while running may have been on its way to a blocking call that a loaded machine ran
            // late: asleep later on the same event, it is a stall like any other.
            for (var i = _retiredRunning.Count - 1; i >= 0; i--)
            {
                var (loop, started) = _retiredRunning[i];
                if (Volatile.Read(ref loop.EventStartedAt) != started)
                {
                    _retiredRunning.RemoveAt(i);
                }
                else if (Native.IsSleeping(loop.ThreadId))
                {
                    _retiredRunning.RemoveAt(i);
                    Stall(now, ref warnFor);
                }
            }
        }

        if (warnFor > 0)
        {
            ServerLog.HandlerBlockedIoThread(_logger, StallMs, Math.Max(1, (int)(warnFor / Stopwatch.Frequency)));
        }
    }

    /// <summary>A handler blocked a loop thread: events go to the thread pool for a while; a warning when that is news.</summary>
    private void Stall(long now, ref long warnFor)
    {
        Stalls++;
        if (_caution.Stall(now, out var period))
        {
            warnFor = period;
        }

        Volatile.Write(ref _cautiousUntil, _caution.Until);
    }

    private void StartLoop(Loop? stolen)
    {
        var loop = new Loop(this);
        loop.Thread = new Thread(() => Run(loop, stolen)) { IsBackground = true, Name = "FastCgi I/O" };
        _loops.Add(loop);
        loop.Thread.UnsafeStart();
    }

    private void Run(Loop loop, Loop? stolen)
    {
        GuardedThread.Enter(loop);
        loop.ThreadId = Native.ThreadId();
        if (stolen is not null)
        {
            Drain(stolen, loop);
        }

        var events = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(loop.Events));
        while (!_stopping && !loop.Retired)
        {
            // Nothing to claim while the buffer is refilled, should a loop that takes over look at it now.
            Volatile.Write(ref loop.Next, MaxEvents);
            Volatile.Write(ref loop.CurrentBatch, loop);
            var count = Native.EpollWait(_epoll, events, MaxEvents, -1);
            if (count < 0)
            {
                if (Native.LastError == Native.EINTR)
                {
                    continue;
                }

                return;
            }

            loop.Count = count;
            Volatile.Write(ref loop.Next, 0);
            Drain(loop, loop);
        }
    }

    /// <summary>
    /// Handles the events of <paramref name="batch"/>'s last wait on <paramref name="runner"/>'s thread. Each event is
    /// claimed with an interlocked increment, so a loop that takes over a stalled one's batch never handles an event
    /// twice, and the stalled one, once it returns, may go on claiming beside it. A retired loop never waits again,
    /// so its buffer stays as it was; it finishes a batch it got while being retired (epoll reports an edge once).
    /// </summary>
    private void Drain(Loop batch, Loop runner)
    {
        var events = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(batch.Events));
        Volatile.Write(ref runner.CurrentBatch, batch);
        while (true)
        {
            var index = Interlocked.Increment(ref batch.Next) - 1;
            if (index >= batch.Count)
            {
                break;
            }

            var data = Native.EventData(events, index);
            if (data == WakeToken)
            {
                _stopping = true;
                continue;
            }

            var slot = (int)(uint)data;
            var connection = slot < _slots.Length ? Volatile.Read(ref _slots[slot]) : null;
            if (connection is null || connection.Token != data)
            {
                continue;
            }

            var mask = Native.EventMask(events, index);
            var now = Stopwatch.GetTimestamp();
            if (now < Volatile.Read(ref _cautiousUntil))
            {
                connection.QueueEvents(mask);
                continue;
            }

            Volatile.Write(ref runner.EventStartedAt, now);
            connection.OnEvents(mask);
            runner.RunDeferred();
            Volatile.Write(ref runner.EventStartedAt, 0);
        }
    }

    private sealed class Loop(EpollEngine engine) : IDeferredWork
    {
        public readonly EpollEngine Engine = engine;
        private readonly Queue<IThreadPoolWorkItem> _deferred = new();
        private readonly Lock _deferredLock = new();

        // Pinned, so the kernel's writes and the pointer the loop keeps stay valid; a retired loop's buffer lives as
        // long as the loop that took over its batch.
        public readonly byte[] Events = GC.AllocateArray<byte>(MaxEvents * Native.EventSize, pinned: true);
        public Thread Thread = null!;
        public volatile int ThreadId;
        public int Count;
        public int Next;
        public long EventStartedAt;
        public Loop? CurrentBatch;
        public volatile bool Retired;

        /// <summary>
        /// Requests started by the event being handled run after it, on this thread, one at a time, each timed like
        /// an event (the first from the event's start). The engine never defers while cautious: what blocked once goes to the thread pool.
        /// </summary>
        public bool TryDefer(IThreadPoolWorkItem work)
        {
            lock (_deferredLock)
            {
                // The event being handled was timed as it began: no clock read of its own.
                var now = Volatile.Read(ref EventStartedAt);
                if (Retired || (now != 0 ? now : Stopwatch.GetTimestamp()) < Volatile.Read(ref Engine._cautiousUntil))
                {
                    return false;
                }

                _deferred.Enqueue(work);
                return true;
            }
        }

        public void RunDeferred()
        {
            // The first runs on the event's own time: the event only read and parsed (microseconds) before it.
            var first = true;

            // Only this thread adds work and Retire only takes it away, so an empty queue seen without the lock is empty.
            while (_deferred.Count > 0)
            {
                IThreadPoolWorkItem? work;
                lock (_deferredLock)
                {
                    if (!_deferred.TryDequeue(out work))
                    {
                        return;
                    }
                }

                if (!first)
                {
                    Volatile.Write(ref EventStartedAt, Stopwatch.GetTimestamp());
                }

                first = false;
                work.Execute();
            }
        }

        /// <summary>Stops the loop once its current work returns; what it had deferred goes to the thread pool now.</summary>
        public void Retire()
        {
            lock (_deferredLock)
            {
                Retired = true;
                while (_deferred.TryDequeue(out var work))
                {
                    ThreadPool.UnsafeQueueUserWorkItem(work, preferLocal: false);
                }
            }
        }
    }
}
