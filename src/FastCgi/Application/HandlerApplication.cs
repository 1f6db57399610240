using FastCgi.Cgi;

namespace FastCgi;

/// <summary>
/// jonpy's handler model as an <see cref="IFastCgiApplication"/>: for each request, a new handler of its role
/// and a request of the chosen <see cref="RequestType"/> over the connection's request.
/// </summary>
internal sealed class HandlerApplication(IReadOnlyDictionary<Role, Func<Handler>> handlers, RequestType requestType, RequestLimits limits) : IFastCgiApplication
{
    public bool Accepts(Role role) => handlers.ContainsKey(role);

    // Not an async method of its own: a synchronous handler finishes on its handler thread, so a state machine here
    // would wait on every request, and a pooled box rented on this thread and returned on that one misses the pool
    // whenever the two threads run on different cores (docs/performance.md). HandlerRunner disposes the request.
    public ValueTask ProcessRequestAsync(FastCgiRequestContext request)
    {
        var served = requestType.Create(request);
        served.Limits = limits;
        // A server's other requests must not wait for a synchronous handler that blocks (HandlerThreads).
        served.ProcessOnHandlerThread = true;
        return HandlerRunner.RunAsync(handlers[request.Role], served, disposeRequest: true);
    }
}
