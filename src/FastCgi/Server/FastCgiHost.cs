using System.Net.Sockets;
using FastCgi.Server.Transports;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FastCgi.Server;

/// <summary>
/// Serves any <see cref="IFastCgiApplication"/> over FastCGI: accepts web server connections (the socket inherited
/// as file descriptor 0, those systemd passes (<c>LISTEN_FDS</c>), or <see cref="FastCgiHostOptions.Listen"/>), filters them by FCGI_WEB_SERVER_ADDRS, runs a
/// connection for each, and on <see cref="Stop"/>, a signal or <c>max_requests</c> stops accepting, drains and
/// returns. jonpy's handler model runs on it through <see cref="FastCgiServer"/>.
/// </summary>
public sealed class FastCgiHost : IAsyncDisposable
{
    private readonly IFastCgiApplication _application;
    private readonly CancellationTokenSource _stop = new();
    private Task _running = Task.CompletedTask;

    /// <summary>A host for <paramref name="application"/>.</summary>
    /// <param name="application">What runs each request.</param>
    /// <param name="options">How to run; see <see cref="FastCgiHostOptions"/>.</param>
    public FastCgiHost(IFastCgiApplication application, FastCgiHostOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(application);
        _application = application;
        Options = options ?? new FastCgiHostOptions();
        if (Options.StatusPath is not null && Options.StatusPath == Options.PingPath)
        {
            throw new ArgumentException($"The status and ping pages are both at '{Options.StatusPath}'.", nameof(options));
        }
    }

    /// <summary>How the host runs.</summary>
    public FastCgiHostOptions Options { get; }

    /// <summary>
    /// Serves until <see cref="Stop"/>, <paramref name="cancellationToken"/>, a signal, or <c>max_requests</c>.
    /// </summary>
    /// <remarks>
    /// The host listens on <see cref="FastCgiHostOptions.Listen"/> when it is set; else on every socket systemd passed
    /// this process (sd_listen_fds(3): <c>LISTEN_PID</c> is this process, <c>LISTEN_FDS</c> sockets from fd 3), and
    /// then removes <c>LISTEN_PID</c>, <c>LISTEN_FDS</c> and <c>LISTEN_FDNAMES</c> from the environment so that child
    /// processes do not take them for theirs; else on the listening socket inherited as fd 0.
    /// </remarks>
    /// <exception cref="InvalidOperationException">
    /// There is no <see cref="FastCgiHostOptions.Listen"/> address, no socket from systemd, and fd 0 is not a listening
    /// socket; or systemd's variables are meant for this process but malformed, or a descriptor they pass is not a
    /// listening stream socket.
    /// </exception>
    public Task RunAsync(CancellationToken cancellationToken = default)
    {
        var listener = SocketListener.Open(Options.Listen, Options.UnixSocketMode, Options.TimeProvider, ServerLogger(Options))
            ?? throw new InvalidOperationException("There is no address to listen on, no socket passed by systemd (LISTEN_FDS), and file descriptor 0 is not a listening socket.");
        return RunAsync(listener, cancellationToken);
    }

    /// <summary>
    /// Whether the process was started as a FastCGI application: systemd passed it sockets (<c>LISTEN_PID</c> is this
    /// process and <c>LISTEN_FDS</c> is not 0; malformed variables meant for it count too, so that the run fails
    /// saying why), or file descriptor 0 is a listening socket (spec 2.2). A CGI program (fd 0 a pipe or a file)
    /// that inherited another process's variables is not. A host that decides between FastCGI, CGI and another server
    /// checks this before anything takes the sockets; it takes nothing and changes nothing.
    /// </summary>
    public static bool IsStartedAsFastCgi() => SystemdSockets.ArePassed() || ListenSocket.IsInheritedListening();

    /// <summary>
    /// Makes <see cref="RunAsync(CancellationToken)"/> return: stops accepting, lets requests in flight finish within
    /// <see cref="FastCgiHostOptions.ShutdownTimeout"/>, then aborts the rest.
    /// </summary>
    public void Stop()
    {
        try
        {
            _stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Disposed already: nothing runs.
        }
    }

    /// <summary>Stops the host and waits until it has drained.</summary>
    public async ValueTask DisposeAsync()
    {
        Stop();
        try
        {
            await _running.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopped, as asked.
        }

        _stop.Dispose();
    }

    /// <summary>What the running host counts; null before it runs.</summary>
    internal HostStatistics? Statistics { get; private set; }

    /// <summary>The running host's <c>FastCgi.Server</c> meter; null before it runs, disposed when it returned.</summary>
    internal System.Diagnostics.Metrics.Meter? Meter { get; private set; }

    /// <summary>The logger of the host's own messages.</summary>
    internal static ILogger ServerLogger(FastCgiHostOptions options) => (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger("FastCgi.Server");

    /// <summary>Serves the connections of <paramref name="listener"/>, which the host disposes when it returns.</summary>
    internal Task RunAsync(ITransportListener listener, CancellationToken cancellationToken)
    {
        _running = ServeAsync(listener, cancellationToken);
        return _running;
    }

    private async Task ServeAsync(ITransportListener listener, CancellationToken cancellationToken)
    {
        var loggers = Options.LoggerFactory ?? NullLoggerFactory.Instance;
        var logger = ServerLogger(Options);
        var policy = new ThreadingPolicy(Options);
        var admission = new RequestAdmission(policy.MaxConcurrentRequests, Options.MaxRequests, Stop);
        var statistics = new HostStatistics(Options.TimeProvider, admission, listener, Options.ThreadingLevel);
        var filter = new WebServerAddressFilter(Options.WebServerAddresses);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
        using var signals = Options.HandleSignals ? new SignalHandlers(Stop, logger) : null;
        using var metrics = new ServerMetrics(statistics);
        Statistics = statistics;
        Meter = metrics.Meter;
        ThreadPoolGuard.Start();
        try
        {
            await using (listener.ConfigureAwait(false))
            {
                var connections = new ConnectionRegistry(policy.MaxConnections, Options.TimeProvider, logger, statistics);
                await using (connections.ConfigureAwait(false))
                {
                    var pages = StatusPages.Create(Options, statistics, () => connections.Connections);
                    var settings = policy.ConnectionSettings(Options, loggers.CreateLogger("FastCgi.Connection"), admission, pages);
                    ServerLog.Listening(logger, listener.Name, (int)Options.ThreadingLevel);
                    await AcceptAsync(listener, connections, policy, settings, filter, statistics, logger, stop.Token).ConfigureAwait(false);

                    // No request is admitted once the listener stops, and a new connection is refused now rather than
                    // left in the backlog while the host drains.
                    admission.Stop();
                    listener.StopAccepting();
                    await connections.DrainAsync(Options.ShutdownTimeout, () => ServerLog.DrainTimedOut(logger, admission.Active)).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            ThreadPoolGuard.Stop();
        }
    }

    private async Task AcceptAsync(
        ITransportListener listener,
        ConnectionRegistry connections,
        ThreadingPolicy policy,
        FastCgiConnectionSettings settings,
        WebServerAddressFilter filter,
        HostStatistics statistics,
        ILogger logger,
        CancellationToken stop)
    {
        var nextId = 0L;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                ITransportConnection transport;
                try
                {
                    transport = await listener.AcceptAsync(stop).ConfigureAwait(false);
                }
                catch (SocketException exception)
                {
                    // Out of file descriptors and the like: keep serving those already connected, make room if one
                    // is idle, retry shortly.
                    ServerLog.AcceptFailed(logger, exception.Message);
                    if (exception.SocketErrorCode == SocketError.TooManyOpenSockets)
                    {
                        connections.CloseLongestIdle();
                    }

                    await Task.Delay(TimeSpan.FromMilliseconds(100), Options.TimeProvider, stop).ConfigureAwait(false);
                    continue;
                }

                if (!filter.Allows(transport.RemoteEndPoint))
                {
                    statistics.ConnectionRejected();
                    ServerLog.ConnectionRefused(logger, transport.RemoteEndPoint?.ToString() ?? "?");
                    await transport.DisposeAsync().ConfigureAwait(false);
                    continue;
                }

                statistics.ConnectionAccepted();
                try
                {
                    await connections.WaitForSlotAsync(stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    await transport.DisposeAsync().ConfigureAwait(false);
                    throw;
                }

                var served = connections.Serve(new ServedConnection(transport, _application, settings, ++nextId, logger));
                if (policy.SequentialConnections)
                {
                    await served.ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Stop(), a signal, the caller's token, or max_requests.
        }
    }
}
