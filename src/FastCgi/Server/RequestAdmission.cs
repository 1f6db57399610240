namespace FastCgi.Server;

/// <summary>
/// The request slots every connection of a host shares: FCGI_MAX_REQS, jonpy's <c>max_requests</c>, and no new
/// request once the host is stopping; and the request figures of the status page and the metrics (two interlocked
/// increments per request beside the slot's own, on the same cache line). With the status pages on, a few requests
/// beyond the slots may wait for their PARAMS to show whether they ask for a page (<see cref="PageReserve"/>).
/// </summary>
internal sealed class RequestAdmission(int maxConcurrentRequests, int maxRequests, Action onMaxRequestsReached) : IRequestAdmission
{
    /// <summary>Requests that may be status or ping requests, admitted beyond the slots while every slot is taken.</summary>
    public const int PageReserve = 8;

    // The slots are shared by the requests counted (_active) and those held until their PARAMS show whether they ask
    // for a status page (_held); the figures report the counted ones.
    private int _active;
    private int _held;
    private int _reserved;
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
        if (_stopping || !TryTake(ref _active, Volatile.Read(ref _held)))
        {
            return false;
        }

        RaiseMaxActive();
        Count();
        return true;
    }

    /// <inheritdoc />
    public bool TryHold() => !_stopping && TryTake(ref _held, Volatile.Read(ref _active));

    /// <inheritdoc />
    public void Promote()
    {
        Interlocked.Increment(ref _active);
        Interlocked.Decrement(ref _held);
        RaiseMaxActive();
        Count();
    }

    /// <inheritdoc />
    public void Drop() => Interlocked.Decrement(ref _held);

    /// <inheritdoc />
    public void Leave()
    {
        Interlocked.Increment(ref _ended);
        Interlocked.Decrement(ref _active);
    }

    /// <inheritdoc />
    public bool TryReserve()
    {
        if (_stopping)
        {
            return false;
        }

        if (Interlocked.Increment(ref _reserved) > PageReserve)
        {
            Interlocked.Decrement(ref _reserved);
            return false;
        }

        return true;
    }

    /// <inheritdoc />
    public void Unreserve() => Interlocked.Decrement(ref _reserved);

    /// <inheritdoc />
    public void Refused(ProtocolStatus status) =>
        Interlocked.Increment(ref status == ProtocolStatus.CantMultiplexConnection ? ref _cantMultiplex : ref _overloaded);

    /// <summary>
    /// Takes one of <paramref name="count"/> if it and <paramref name="others"/> stay within the slots. With the pages
    /// off nothing is held and the check is exact; with them on, a hold and an admission racing for the last slot may
    /// both pass, one over the limit for as long as the held request's PARAMS take.
    /// </summary>
    private bool TryTake(ref int count, int others)
    {
        if (Interlocked.Increment(ref count) + others > maxConcurrentRequests)
        {
            Interlocked.Decrement(ref count);
            return false;
        }

        return true;
    }

    /// <summary>Raised only when passed, so the usual request reads it and writes nothing.</summary>
    private void RaiseMaxActive()
    {
        var active = Volatile.Read(ref _active);
        for (var max = Volatile.Read(ref _maxActive); active > max; max = Volatile.Read(ref _maxActive))
        {
            if (Interlocked.CompareExchange(ref _maxActive, active, max) == max)
            {
                break;
            }
        }
    }

    /// <summary>Counts an admitted request: the status page's "accepted requests", and jonpy's max_requests.</summary>
    private void Count()
    {
        if (Interlocked.Increment(ref _begun) >= maxRequests && maxRequests > 0)
        {
            // jonpy's fcgi module: "it will exit after that many requests have been initiated".
            _stopping = true;
            onMaxRequestsReached();
        }
    }
}
