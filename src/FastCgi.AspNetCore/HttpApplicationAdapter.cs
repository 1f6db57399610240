using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Abstractions;
using Microsoft.Extensions.Logging;

namespace FastCgi.AspNetCore;

/// <summary>
/// The ASP.NET Core application as the library's <see cref="IFastCgiApplication"/>: one request per call. The
/// features, and through them the application's HttpContext, stay with the connection's request context for its
/// next requests (<see cref="FastCgiRequestContext.ApplicationState"/>), as Kestrel keeps them per connection.
/// </summary>
internal sealed class HttpApplicationAdapter<TContext>(
    IHttpApplication<TContext> application, ServerSettings settings, FastCgiRoles roles, ILogger logger) : IFastCgiApplication
    where TContext : notnull
{
    public bool Accepts(Role role) => role switch
    {
        Role.Responder => (roles & FastCgiRoles.Responder) != 0,
        Role.Authorizer => (roles & FastCgiRoles.Authorizer) != 0,
        Role.Filter => (roles & FastCgiRoles.Filter) != 0,
        _ => false,
    };

    public async ValueTask ProcessRequestAsync(FastCgiRequestContext request)
    {
        if (request.ApplicationState is not PooledRequestFeatures features)
        {
            features = new PooledRequestFeatures(settings);
            request.ApplicationState = features;
        }

        features.Initialize(request);
        var (context, error, outcome) = await HttpApplicationRunner.RunAsync(application, features, logger).ConfigureAwait(false);
        if (outcome == HttpApplicationRunner.Outcome.Failed)
        {
            try
            {
                // What the application flushed reaches the web server, as it would have without the hold.
                await features.SendHeldFlushAsync().ConfigureAwait(false);
            }
            catch (IOException)
            {
                // The web server went away: failing the request below closes the connection all the same.
            }

            // Closing without END_REQUEST is FastCGI's only way to say the response is incomplete (spec 5.5).
            await request.FailAsync().ConfigureAwait(false);
        }
        else
        {
            try
            {
                await request.CompleteAsync().ConfigureAwait(false);
            }
            catch (IOException)
            {
                // The web server went away; the request is over either way, and the connection logs why.
            }
        }

        await HttpApplicationRunner.FinishAsync(application, features, context, error, logger).ConfigureAwait(false);
    }

    /// <summary>The features that also keep the hosting layer's context (and its HttpContext) between requests.</summary>
    private sealed class PooledRequestFeatures(ServerSettings settings) : RequestFeatures(settings), IHostContextContainer<TContext>
    {
        public TContext? HostContext { get; set; }
    }
}
