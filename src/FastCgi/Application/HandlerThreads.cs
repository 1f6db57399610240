using System.Threading.Tasks.Sources;

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
    /// <returns>
    /// Completes on that thread when Process returns, so the caller's continuation (ending the request) runs there too.
    /// Await it exactly once: the thread serves no other request until its result has been taken.
    /// </returns>
    public static ValueTask RunAsync(Handler handler, Request request)
    {
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
            worker = new Worker();
            var running = worker.Give(handler, request);
            worker.Start();
            return running;
        }

        return worker.Give(handler, request);
    }

    /// <summary>
    /// A handler thread, and the completion of its current request: one source reused for every request the thread
    /// serves, where a work item, a TaskCompletionSource and its Task per request cost 128 B.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The thread disposes its semaphore when it retires; the semaphore never allocates a wait handle.")]
    private sealed class Worker : IValueTaskSource
    {
        // The thread has retired with a result nobody took (its ValueTask was never awaited).
        private const int Abandoned = -1;

        private readonly SemaphoreSlim _signal = new(0);

        // Not RunContinuationsAsynchronously: the request is ended on this thread, without another switch.
        private ManualResetValueTaskSourceCore<bool> _completion;
        private Handler? _handler;
        private Request? _request;

        // Who still holds the current request: the thread until Process has returned, the awaiter until it has the
        // result. The last to let go lists the worker as idle, so a new request never resets a result not yet taken.
        private int _holders;

        public void Start() => new Thread(Loop) { IsBackground = true, Name = "FastCgi handler" }.UnsafeStart();

        public ValueTask Give(Handler handler, Request request)
        {
            _completion.Reset();
            _handler = handler;
            _request = request;
            _holders = 2;
            var running = new ValueTask(this, _completion.Version);
            _signal.Release();
            return running;
        }

        public ValueTaskSourceStatus GetStatus(short token) => _completion.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _completion.OnCompleted(continuation, state, token, flags);

        public void GetResult(short token)
        {
            if (token != _completion.Version || _completion.GetStatus(token) == ValueTaskSourceStatus.Pending)
            {
                throw new InvalidOperationException("A handler thread's result was taken twice or before Process returned.");
            }

            try
            {
                _completion.GetResult(token);
            }
            finally
            {
                LetGo();
            }
        }

        private void LetGo()
        {
            if (Interlocked.Decrement(ref _holders) == 0)
            {
                lock (IdleLock)
                {
                    Idle.Add(this);
                }
            }
        }

        private void Loop()
        {
            while (true)
            {
                while (!_signal.Wait(IdleTimeoutMs))
                {
                    lock (IdleLock)
                    {
                        // Still idle, or its last result was never taken (the awaiter is gone): retire. Otherwise a
                        // request was just given to this thread and is on its way, or its result is about to be taken.
                        if (Idle.Remove(this) || Interlocked.CompareExchange(ref _holders, Abandoned, 1) == 1)
                        {
                            _signal.Dispose();
                            return;
                        }
                    }
                }

                var handler = _handler!;
                var request = _request!;
                _handler = null;
                _request = null;
                try
                {
                    handler.Process(request);
                    _completion.SetResult(true);
                }
                catch (Exception exception)
                {
                    _completion.SetException(exception);
                }

                LetGo();
            }
        }
    }
}
