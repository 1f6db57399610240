using System.Runtime.CompilerServices;
using FastCgi.Cgi;

namespace FastCgi;

/// <summary>
/// jonpy's handler model as an <see cref="IFastCgiApplication"/>: for each request, a new handler of its role
/// and a request of the chosen <see cref="RequestType"/> over the connection's request.
/// </summary>
internal sealed class HandlerApplication(IReadOnlyDictionary<Role, Func<Handler>> handlers, RequestType requestType, RequestLimits limits) : IFastCgiApplication
{
    public bool Accepts(Role role) => handlers.ContainsKey(role);

    // Pooled: a synchronous handler finishes on its own thread, so this method always completes asynchronously.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask ProcessRequestAsync(FastCgiRequestContext request)
    {
        using var served = requestType.Create(request);
        served.Limits = limits;
        // A server's other requests must not wait for a synchronous handler that blocks (HandlerThreads).
        served.ProcessOnHandlerThread = true;
        await HandlerRunner.RunAsync(handlers[request.Role], served).ConfigureAwait(false);
    }
}
