using FastCgi.Server.Transports;

namespace FastCgi.Server;

/// <summary>
/// What a running host counts, read by its status page and its metrics: when it started, its connections (one
/// interlocked operation each as they come and go), its requests (kept by <see cref="RequestAdmission"/>) and the
/// listen queue as the kernel tells it.
/// </summary>
internal sealed class HostStatistics(TimeProvider time, RequestAdmission requests, ITransportListener listener, ThreadingLevel level)
{
    private readonly long _startedAt = time.GetTimestamp();
    private long _accepted;
    private long _active;
    private long _rejected;
    private long _maxListenQueue;

    /// <summary>When the host started serving.</summary>
    public DateTimeOffset StartTime { get; } = time.GetUtcNow();

    public TimeProvider Time => time;

    public RequestAdmission Requests => requests;

    public ThreadingLevel ThreadingLevel => level;

    /// <summary>Connections taken from the listener and let through FCGI_WEB_SERVER_ADDRS.</summary>
    public long AcceptedConnections => Interlocked.Read(ref _accepted);

    /// <summary>Connections being served now.</summary>
    public long ActiveConnections => Interlocked.Read(ref _active);

    /// <summary>Connections closed unserved: their address is not in FCGI_WEB_SERVER_ADDRS.</summary>
    public long RejectedConnections => Interlocked.Read(ref _rejected);

    /// <summary>Whole seconds since the host started.</summary>
    public long SecondsSinceStart => (long)time.GetElapsedTime(_startedAt).TotalSeconds;

    public void ConnectionAccepted() => Interlocked.Increment(ref _accepted);

    public void ConnectionRejected() => Interlocked.Increment(ref _rejected);

    public void ConnectionOpened() => Interlocked.Increment(ref _active);

    public void ConnectionClosed() => Interlocked.Decrement(ref _active);

    /// <summary>The listen queue now, which also raises its maximum; null where the system does not tell it.</summary>
    public ListenQueue? ReadListenQueue()
    {
        var queue = listener.ReadListenQueue();
        if (queue is { Length: var length })
        {
            for (var max = Interlocked.Read(ref _maxListenQueue); length > max; max = Interlocked.Read(ref _maxListenQueue))
            {
                if (Interlocked.CompareExchange(ref _maxListenQueue, length, max) == max)
                {
                    break;
                }
            }
        }

        return queue;
    }

    /// <summary>The longest listen queue seen: read once a second and whenever the figures are read.</summary>
    public long MaxListenQueue => Interlocked.Read(ref _maxListenQueue);
}
