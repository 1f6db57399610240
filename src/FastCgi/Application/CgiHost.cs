
namespace FastCgi;

/// <summary>
/// The CGI fallback (RFC 3875): the one request of a plain CGI run, from the environment and the standard streams,
/// through the Responder's handler and a request of the server's <see cref="RequestType"/>.
/// </summary>
internal static class CgiHost
{
    public static async Task RunAsync(IReadOnlyDictionary<Role, Func<Handler>> handlers, FastCgiServerOptions options)
    {
        var factory = handlers.GetValueOrDefault(Role.Responder)
            ?? throw new InvalidOperationException("Started as plain CGI, but the server has no Responder handler.");
        using var request = options.RequestType.Cgi();
        request.Limits = options.RequestLimits;
        await request.ProcessAsync(factory()).ConfigureAwait(false);
    }
}
