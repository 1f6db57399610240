using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.Logging;

namespace FastCgi.AspNetCore;

/// <summary>The ASP.NET Core application as the library's <see cref="IFastCgiApplication"/>: one request per call.</summary>
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
        var features = new RequestFeatures(settings, request.Params, request.Body, request.Output, request, request.Aborted);
        var (context, error, outcome) = await HttpApplicationRunner.RunAsync(application, features, logger).ConfigureAwait(false);
        if (outcome == HttpApplicationRunner.Outcome.Failed)
        {
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
}
