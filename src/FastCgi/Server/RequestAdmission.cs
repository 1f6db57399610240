namespace FastCgi.Server;

/// <summary>
/// The request slots every connection of a host shares: FCGI_MAX_REQS, jonpy's <c>max_requests</c>, and no new
/// request once the host is stopping.
/// </summary>
internal sealed class RequestAdmission(int maxConcurrentRequests, int maxRequests, Action onMaxRequestsReached) : IRequestAdmission
{
    private int _active;
    private int _begun;
    private volatile bool _stopping;

    /// <summary>The requests in flight now.</summary>
    public int Active => Volatile.Read(ref _active);

    /// <summary>No request is admitted from now on.</summary>
    public void Stop() => _stopping = true;

    /// <inheritdoc />
    public bool TryAdmit()
    {
        if (_stopping)
        {
            return false;
        }

        if (Interlocked.Increment(ref _active) > maxConcurrentRequests)
        {
            Interlocked.Decrement(ref _active);
            return false;
        }

        if (maxRequests > 0 && Interlocked.Increment(ref _begun) >= maxRequests)
        {
            // jonpy's fcgi module: "it will exit after that many requests have been initiated".
            _stopping = true;
            onMaxRequestsReached();
        }

        return true;
    }

    /// <inheritdoc />
    public void Leave() => Interlocked.Decrement(ref _active);
}
