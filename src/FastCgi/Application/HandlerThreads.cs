namespace FastCgi;

/// <summary>
/// Threads the library owns for synchronous handlers (<see cref="Handler.Process"/>, jonpy's API), which may block
/// as long as they like: like jonpy's thread per request, one is taken for each such request, started when none is
/// idle, and kept for the next request until it has been idle for <see cref="IdleTimeoutMs"/>. Blocking one of
/// these starves nothing, where blocking a thread pool thread holds up every connection.
/// </summary>
internal static class HandlerThreads
{
    private const int IdleTimeoutMs = 10_000;

    private static readonly List<Worker> Idle = [];
    private static readonly Lock IdleLock = new();

    /// <summary>Runs <paramref name="handler"/>'s <see cref="Handler.Process"/> on a handler thread.</summary>
    /// <returns>Completes on that thread when Process returns, so the caller's continuation (ending the request) runs there too.</returns>
    public static Task RunAsync(Handler handler, Request request)
    {
        var work = new Work(handler, request);
        Worker? worker = null;
        lock (IdleLock)
        {
            if (Idle.Count > 0)
            {
                worker = Idle[^1];
                Idle.RemoveAt(Idle.Count - 1);
            }
        }

        if (worker is null)
        {
            new Worker(work).Start();
        }
        else
        {
            worker.Give(work);
        }

        return work.Completion.Task;
    }

    private sealed class Work(Handler handler, Request request)
    {
        // Not RunContinuationsAsynchronously: the request is ended on this thread, without another switch.
        public TaskCompletionSource Completion { get; } = new();

        public void Run()
        {
            try
            {
                handler.Process(request);
                Completion.SetResult();
            }
            catch (Exception exception)
            {
                Completion.SetException(exception);
            }
        }
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The thread disposes its semaphore when it retires; the semaphore never allocates a wait handle.")]
    private sealed class Worker(Work first)
    {
        private readonly SemaphoreSlim _signal = new(0);
        private Work? _work = first;

        public void Start() => new Thread(Loop) { IsBackground = true, Name = "FastCgi handler" }.UnsafeStart();

        public void Give(Work work)
        {
            _work = work;
            _signal.Release();
        }

        private void Loop()
        {
            while (true)
            {
                var work = _work!;
                _work = null;
                work.Run();
                lock (IdleLock)
                {
                    Idle.Add(this);
                }

                while (!_signal.Wait(IdleTimeoutMs))
                {
                    lock (IdleLock)
                    {
                        // Still idle: retire. Otherwise a request was just given to this thread and is on its way.
                        if (Idle.Remove(this))
                        {
                            _signal.Dispose();
                            return;
                        }
                    }
                }
            }
        }
    }
}
