namespace FastCgi.Server;

/// <summary>
/// The request slots every connection of a host shares: FCGI_MAX_REQS, jonpy's <c>max_requests</c>, and no new
/// request once the host is stopping; and the request figures of the status page and the metrics, each kept with
/// the one interlocked operation a request already makes here.
/// </summary>
internal sealed class RequestAdmission(int maxConcurrentRequests, int maxRequests, Action onMaxRequestsReached) : IRequestAdmission
{
    private int _active;
    private int _maxActive;
    private long _begun;
    private long _ended;
    private long _overloaded;
    private long _cantMultiplex;
    private volatile bool _stopping;

    /// <summary>The requests in flight now.</summary>
    public int Active => Volatile.Read(ref _active);

    /// <summary>The most requests in flight at once since the host started.</summary>
    public int MaxActive => Volatile.Read(ref _maxActive);

    /// <summary>The requests admitted since the host started.</summary>
    public long Begun => Interlocked.Read(ref _begun);

    /// <summary>The admitted requests that have ended (answered or aborted).</summary>
    public long Ended => Interlocked.Read(ref _ended);

    /// <summary>The requests refused with FCGI_OVERLOADED.</summary>
    public long RefusedOverloaded => Interlocked.Read(ref _overloaded);

    /// <summary>The requests refused with FCGI_CANT_MPX_CONN.</summary>
    public long RefusedCantMultiplex => Interlocked.Read(ref _cantMultiplex);

    /// <summary>No request is admitted from now on.</summary>
    public void Stop() => _stopping = true;

    /// <inheritdoc />
    public bool TryAdmit()
    {
        if (_stopping)
        {
            return false;
        }

        var active = Interlocked.Increment(ref _active);
        if (active > maxConcurrentRequests)
        {
            Interlocked.Decrement(ref _active);
            return false;
        }

        // Raised only when passed, so the usual request reads it and writes nothing.
        for (var max = Volatile.Read(ref _maxActive); active > max; max = Volatile.Read(ref _maxActive))
        {
            if (Interlocked.CompareExchange(ref _maxActive, active, max) == max)
            {
                break;
            }
        }

        if (Interlocked.Increment(ref _begun) >= maxRequests && maxRequests > 0)
        {
            // jonpy's fcgi module: "it will exit after that many requests have been initiated".
            _stopping = true;
            onMaxRequestsReached();
        }

        return true;
    }

    /// <inheritdoc />
    public void Leave()
    {
        Interlocked.Increment(ref _ended);
        Interlocked.Decrement(ref _active);
    }

    /// <inheritdoc />
    public void Refused(ProtocolStatus status) =>
        Interlocked.Increment(ref status == ProtocolStatus.CantMultiplexConnection ? ref _cantMultiplex : ref _overloaded);
}
