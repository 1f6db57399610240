using FastCgi.Server.Transports;

namespace FastCgi;

/// <summary>
/// The FastCGI application's main loop (jonpy's <c>fcgi.Server</c>): runs a new handler for each request, by role,
/// on a <see cref="FastCgiHost"/>. When the program was not started as a FastCGI application (no
/// <see cref="FastCgiHostOptions.Listen"/> address is given, systemd passed no socket, and fd 0 is not a listening
/// socket: <see cref="FastCgiHost.IsStartedAsFastCgi"/>) it serves the one request of a
/// plain CGI run instead (<see cref="CgiHost"/>), so the same program works under both; the process exit code
/// (<see cref="Environment.ExitCode"/>) is then the request's <see cref="FastCgiRequest.AppStatus"/>, or 1 when its
/// response was broken off.
/// </summary>
/// <example>
/// <code>new FastCgiServer(() => new Hello()).Run();</code>
/// </example>
public sealed class FastCgiServer : IAsyncDisposable
{
    private readonly HandlerApplication _application;
    private readonly FastCgiHost _host;

    /// <summary>A server with a handler factory per role (jonpy's <c>handler_types</c>).</summary>
    /// <param name="handlers">Role → a factory that makes a new handler for each request. A role without one is refused with FCGI_UNKNOWN_ROLE.</param>
    /// <param name="options">How to run; see <see cref="FastCgiServerOptions"/>.</param>
    public FastCgiServer(IReadOnlyDictionary<Role, Func<Handler>> handlers, FastCgiServerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(handlers);
        Options = options ?? new FastCgiServerOptions();
        _application = new HandlerApplication(new Dictionary<Role, Func<Handler>>(handlers), Options.RequestType, Options.RequestLimits);
        _host = new FastCgiHost(_application, Options);
    }

    /// <summary>A server for the Responder role, the usual one.</summary>
    /// <param name="responder">Makes a new handler for each request.</param>
    /// <param name="options">How to run; see <see cref="FastCgiServerOptions"/>.</param>
    public FastCgiServer(Func<Handler> responder, FastCgiServerOptions? options = null)
        : this(new Dictionary<Role, Func<Handler>> { [Role.Responder] = responder }, options)
    {
    }

    /// <summary>How the server runs.</summary>
    public FastCgiServerOptions Options { get; }

    /// <summary>Serves until <see cref="Exit"/>, jonpy's <c>max_requests</c>, or forever.</summary>
    public void Run() => RunAsync().GetAwaiter().GetResult();

    /// <summary>Serves until <see cref="Exit"/>, <paramref name="cancellationToken"/>, or jonpy's <c>max_requests</c>.</summary>
    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        var listener = SocketListener.Open(Options.Listen, Options.UnixSocketMode, Options.TimeProvider, FastCgiHost.ServerLogger(Options));
        if (listener is null)
        {
            // The exit code tells the web server whether the response is complete (RFC 3875 has no other way).
            Environment.ExitCode = await CgiHost.RunAsync(_application, Options, cancellationToken).ConfigureAwait(false);
            return;
        }

        await _host.RunAsync(listener, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Makes <see cref="Run"/> return: stops accepting, lets requests in flight finish within
    /// <see cref="FastCgiHostOptions.ShutdownTimeout"/>, then aborts the rest.
    /// </summary>
    public void Exit() => _host.Stop();

    /// <summary>Stops the server (as <see cref="Exit"/>) and waits until it has drained.</summary>
    public ValueTask DisposeAsync() => _host.DisposeAsync();
}
