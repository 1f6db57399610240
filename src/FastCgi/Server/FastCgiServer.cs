using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net.Sockets;
using FastCgi.Connection;
using FastCgi.Server;
using Microsoft.Extensions.Logging;

namespace FastCgi;

/// <summary>
/// The FastCGI application's main loop (the seed's <c>fcgi.Server</c>): accepts web server connections and runs a
/// new handler for each request, by role. When the program was not started as a FastCGI application (fd 0 is not
/// a listening socket and no <see cref="FastCgiServerOptions.Listen"/> address is given) it serves the one
/// request of a plain CGI run instead, so the same program works under both.
/// </summary>
/// <example>
/// <code>new FastCgiServer(() => new Hello()).Run();</code>
/// </example>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The exit source lives as long as the server and never allocates a wait handle.")]
public sealed class FastCgiServer
{
    private readonly IReadOnlyDictionary<Role, Func<Handler>> _handlers;
    private readonly CancellationTokenSource _exit = new();

    /// <summary>A server with a handler factory per role (the seed's <c>handler_types</c>).</summary>
    /// <param name="handlers">Role → a factory that makes a new handler for each request. A role without one is refused with FCGI_UNKNOWN_ROLE.</param>
    /// <param name="options">How to run; see <see cref="FastCgiServerOptions"/>.</param>
    public FastCgiServer(IReadOnlyDictionary<Role, Func<Handler>> handlers, FastCgiServerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(handlers);
        _handlers = new Dictionary<Role, Func<Handler>>(handlers);
        Options = options ?? new FastCgiServerOptions();
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

    /// <summary>Serves until <see cref="Exit"/>, the seed's <c>max_requests</c>, or forever.</summary>
    public void Run() => RunAsync().GetAwaiter().GetResult();

    /// <summary>Serves until <see cref="Exit"/>, <paramref name="cancellationToken"/>, or the seed's <c>max_requests</c>.</summary>
    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        var listener = Options.Listen is { } address
            ? ListenSocket.Bind(address, Options.UnixSocketMode)
            : ListenSocket.FromInheritedDescriptor();
        if (listener is null)
        {
            await RunCgiAsync().ConfigureAwait(false);
            return;
        }

        try
        {
            await ServeAsync(listener, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            listener.Dispose();
            if (Options.Listen is { } bound && bound.StartsWith("unix:", StringComparison.Ordinal))
            {
                File.Delete(bound["unix:".Length..]);
            }
        }
    }

    /// <summary>
    /// Makes <see cref="Run"/> return: stops accepting, lets requests in flight finish within
    /// <see cref="FastCgiServerOptions.ShutdownTimeout"/>, then aborts the rest.
    /// </summary>
    public void Exit()
    {
        try
        {
            _exit.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Run already returned.
        }
    }

    private async Task RunCgiAsync()
    {
        var factory = _handlers.GetValueOrDefault(Role.Responder)
            ?? throw new InvalidOperationException("Started as plain CGI, but the server has no Responder handler.");
        using var request = Options.GZip ? new GZipCgiRequest() : new CgiRequest();
        request.Limits = Options.RequestLimits;
        await request.ProcessAsync(factory()).ConfigureAwait(false);
    }

    private async Task ServeAsync(Socket listener, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _exit.Token);
        var context = new ServerContext(_handlers, Options, Exit);
        var filter = new WebServerAddressFilter(Options.WebServerAddresses);
        var connections = new ConcurrentDictionary<long, (FastCgiConnection Connection, Task Task)>();
        using var slots = new SemaphoreSlim(context.MaxConnections);
        var nextId = 0L;
        Log.Listening(context.Logger, listener.LocalEndPoint?.ToString() ?? "fd 0", (int)Options.ThreadingLevel);
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await slots.WaitAsync(stop.Token).ConfigureAwait(false);
                Socket socket;
                try
                {
                    socket = await listener.AcceptAsync(stop.Token).ConfigureAwait(false);
                }
                catch (SocketException exception)
                {
                    // Out of file descriptors and the like: keep serving those already connected, retry shortly.
                    slots.Release();
                    Log.ConnectionFailed(context.Logger, -1, exception.Message);
                    await Task.Delay(100, stop.Token).ConfigureAwait(false);
                    continue;
                }

                if (!filter.Allows(socket.RemoteEndPoint))
                {
                    Log.ConnectionRefused(context.Logger, socket.RemoteEndPoint?.ToString() ?? "?");
                    socket.Dispose();
                    slots.Release();
                    continue;
                }

                var id = ++nextId;
                var connection = CreateConnection(socket, context, id, out var run);
                var task = RunConnectionAsync(socket, run, connections, id, slots, context);
                connections[id] = (connection, task);
                if (Options.ThreadingLevel == ThreadingLevel.Sequential)
                {
                    await task.ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Exit(), the caller's token, or max_requests.
        }

        await DrainAsync(context, connections).ConfigureAwait(false);
    }

    private static FastCgiConnection CreateConnection(Socket socket, ServerContext context, long id, out Func<Task> run)
    {
        if (socket.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
        {
            socket.NoDelay = true;
        }

        var stream = new NetworkStream(socket, ownsSocket: true);
        var input = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 16 * 1024, minimumReadSize: 4 * 1024, leaveOpen: true));
        var output = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 16 * 1024, leaveOpen: true));
        var connection = new FastCgiConnection(input, output, context, id);
        Log.ConnectionOpened(context.Logger, id, socket.RemoteEndPoint?.ToString() ?? "unix");
        run = async () =>
        {
            try
            {
                await connection.RunAsync().ConfigureAwait(false);
            }
            finally
            {
                try
                {
                    await output.CompleteAsync().ConfigureAwait(false);
                }
                catch (IOException)
                {
                    // The web server is gone; nothing left to send.
                }

                await stream.DisposeAsync().ConfigureAwait(false);
            }
        };
        return connection;
    }

    private static async Task RunConnectionAsync(
        Socket socket,
        Func<Task> run,
        ConcurrentDictionary<long, (FastCgiConnection Connection, Task Task)> connections,
        long id,
        SemaphoreSlim slots,
        ServerContext context)
    {
        // Yield so the accept loop goes on while this connection is served (levels 1 and 2).
        await Task.Yield();
        try
        {
            await run().ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is IOException or SocketException or ObjectDisposedException)
        {
            Log.ConnectionFailed(context.Logger, id, exception.Message);
        }
        finally
        {
            socket.Dispose();
            connections.TryRemove(id, out _);
            slots.Release();
            Log.ConnectionClosed(context.Logger, id);
        }
    }

    private async Task DrainAsync(ServerContext context, ConcurrentDictionary<long, (FastCgiConnection Connection, Task Task)> connections)
    {
        context.Stopping = true;
        foreach (var (connection, _) in connections.Values)
        {
            connection.RequestStop();
        }

        var all = Task.WhenAll(connections.Values.Select(c => c.Task));
        try
        {
            await all.WaitAsync(Options.ShutdownTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Log.DrainTimedOut(context.Logger, context.ActiveRequests);
            foreach (var (connection, _) in connections.Values)
            {
                connection.AbortAll(AbortReason.WebServer, completeInput: false);
            }

            await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(5))).ConfigureAwait(false);
        }
    }
}
