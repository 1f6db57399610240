using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using FastCgi.Connection;
using FastCgi.Server;

namespace FastCgi;

/// <summary>
/// The FastCGI application's main loop (jonpy's <c>fcgi.Server</c>): accepts web server connections and runs a
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

    /// <summary>A server with a handler factory per role (jonpy's <c>handler_types</c>).</summary>
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

    /// <summary>Serves until <see cref="Exit"/>, jonpy's <c>max_requests</c>, or forever.</summary>
    public void Run() => RunAsync().GetAwaiter().GetResult();

    /// <summary>Serves until <see cref="Exit"/>, <paramref name="cancellationToken"/>, or jonpy's <c>max_requests</c>.</summary>
    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        if (Options.InlineCompletions)
        {
            Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
        }

        var listener = Options.Listen is { } address
            ? ListenSocket.Bind(address, Options.UnixSocketMode)
            : ListenSocket.FromInheritedDescriptor();
        if (listener is null)
        {
            await RunCgiAsync().ConfigureAwait(false);
            return;
        }

        ThreadPoolGuard.Start();
        try
        {
            await ServeAsync(listener, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ThreadPoolGuard.Stop();
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
        var connections = new ConcurrentDictionary<long, ServedConnection>();
        using var slots = new SemaphoreSlim(context.MaxConnections);
        using var signals = Options.HandleSignals ? new SignalHandlers(this, context) : null;
        await using var heartbeat = new Timer(
            static state =>
            {
                var now = Environment.TickCount64;
                foreach (var served in ((ConcurrentDictionary<long, ServedConnection>)state!).Values)
                {
                    served.Connection.CheckTimeouts(now);
                }
            },
            connections,
            TimeSpan.FromSeconds(1),
            TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        var nextId = 0L;
        Log.Listening(context.Logger, listener.LocalEndPoint?.ToString() ?? "fd 0", (int)Options.ThreadingLevel);
        try
        {
            while (!stop.IsCancellationRequested)
            {
                Socket socket;
                try
                {
                    socket = await listener.AcceptAsync(stop.Token).ConfigureAwait(false);
                }
                catch (SocketException exception)
                {
                    // Out of file descriptors and the like: keep serving those already connected, make room if one
                    // is idle, retry shortly.
                    Log.ConnectionFailed(context.Logger, -1, exception.Message);
                    if (exception.SocketErrorCode == SocketError.TooManyOpenSockets)
                    {
                        CloseLongestIdle(connections);
                    }

                    await Task.Delay(100, stop.Token).ConfigureAwait(false);
                    continue;
                }

                if (!filter.Allows(socket.RemoteEndPoint))
                {
                    Log.ConnectionRefused(context.Logger, socket.RemoteEndPoint?.ToString() ?? "?");
                    socket.Dispose();
                    continue;
                }

                if (!slots.Wait(0, CancellationToken.None))
                {
                    // At FCGI_MAX_CONNS: an idle connection gives way to the new one. When every connection has a
                    // request in flight, the new one waits for a slot (and those after it in the listen backlog).
                    CloseLongestIdle(connections);
                    try
                    {
                        await slots.WaitAsync(stop.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        socket.Dispose();
                        throw;
                    }
                }

                var served = new ServedConnection(socket, context, ++nextId);
                connections[served.Id] = served;
                var task = served.RunAsync(() =>
                {
                    connections.TryRemove(served.Id, out _);
                    slots.Release();
                });
                if (Options.ThreadingLevel == ThreadingLevel.Sequential)
                {
                    await task.ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Exit(), a signal, the caller's token, or max_requests.
        }

        // Stop accepting before draining: a new connection is refused now rather than left in the backlog.
        if (Options.Listen is null)
        {
            ListenSocket.CloseInherited(listener);
        }
        else
        {
            listener.Dispose();
        }
        await DrainAsync(context, connections).ConfigureAwait(false);
    }

    /// <summary>Closes the connection that has been idle the longest, if any is idle; a busy one is never closed.</summary>
    private static void CloseLongestIdle(ConcurrentDictionary<long, ServedConnection> connections)
    {
        while (true)
        {
            ServedConnection? oldest = null;
            var oldestSince = long.MaxValue;
            foreach (var served in connections.Values)
            {
                // Ties (the clock ticks in milliseconds) go to the older connection.
                var since = served.Connection.IdleSince;
                if (since < oldestSince || (since == oldestSince && since < long.MaxValue && served.Id < oldest!.Id))
                {
                    oldest = served;
                    oldestSince = since;
                }
            }

            // It may have begun a request since it was looked at: then try the next one.
            if (oldest is null || oldest.TryCloseIdle())
            {
                return;
            }
        }
    }

    private async Task DrainAsync(ServerContext context, ConcurrentDictionary<long, ServedConnection> connections)
    {
        context.Stopping = true;
        foreach (var served in connections.Values)
        {
            served.Connection.RequestStop();
        }

        var all = Task.WhenAll(connections.Values.Select(c => c.Completion));
        try
        {
            await all.WaitAsync(Options.ShutdownTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Log.DrainTimedOut(context.Logger, context.ActiveRequests);
            foreach (var served in connections.Values)
            {
                served.Connection.AbortAll(AbortReason.WebServer, completeInput: false);
            }

            await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(5))).ConfigureAwait(false);
        }
    }

    /// <summary>One accepted socket: its pipes, its protocol connection, and its clean-up.</summary>
    private sealed class ServedConnection
    {
        private readonly Socket _socket;
        private readonly NetworkStream _stream;
        private readonly PipeWriter _output;
        private readonly ServerContext _context;
        private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ServedConnection(Socket socket, ServerContext context, long id)
        {
            if (socket.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
            {
                socket.NoDelay = true;
            }

            _socket = socket;
            _context = context;
            Id = id;
            _stream = new NetworkStream(socket, ownsSocket: true);
            // Large reads: a 64 KiB STDIN record arrives in one or two receives instead of four or more.
            // Zero-byte reads: an idle connection waits for data without holding a buffer.
            var input = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 16 * 1024, leaveOpen: true, useZeroByteReads: true));
            _output = PipeWriter.Create(_stream, new StreamPipeWriterOptions(minimumBufferSize: 16 * 1024, leaveOpen: true));
            Connection = new FastCgiConnection(input, _output, context, id, socket.Dispose, () => Reset(socket));
            Log.ConnectionOpened(context.Logger, id, socket.RemoteEndPoint?.ToString() ?? "unix");
        }

        public long Id { get; }

        public FastCgiConnection Connection { get; }

        public Task Completion => _completion.Task;

        /// <summary>Closes the connection if it is idle and nothing it sent is waiting to be read (a request on its way).</summary>
        public bool TryCloseIdle()
        {
            try
            {
                if (_socket.Available > 0)
                {
                    return false;
                }
            }
            catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
            {
                return false;
            }

            return Connection.TryCloseIdle();
        }

        /// <summary>
        /// Closes abortively: with a zero linger time the close sends a TCP reset, which a web server reads as a failed
        /// response even where it takes a plain close for the end of one.
        /// </summary>
        private static void Reset(Socket socket)
        {
            try
            {
                socket.LingerState = new LingerOption(true, 0);
            }
            catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
            {
                // Closed already, or not a socket that lingers: a plain close is all there is.
            }

            socket.Dispose();
        }

        /// <summary>
        /// Closes gently: the web server may still be sending the end of a request we already answered (Apache
        /// sends the empty STDIN record in a write of its own). Closing with unread input would reset the connection
        /// and lose the response, so shut down the sending side and read what is left, for a moment, before closing.
        /// </summary>
        private async Task LingerAsync()
        {
            _socket.Shutdown(SocketShutdown.Send);
            using var linger = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(4096);
            try
            {
                for (var total = 0; total < 1024 * 1024;)
                {
                    var read = await _socket.ReceiveAsync(buffer, SocketFlags.None, linger.Token).ConfigureAwait(false);
                    if (read == 0)
                    {
                        return;
                    }

                    total += read;
                }
            }
            catch (OperationCanceledException)
            {
                // The web server kept the connection open: close it anyway.
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        public async Task RunAsync(Action onClosed)
        {
            // Yield so the accept loop goes on while this connection is served (levels 1 and 2).
            await Task.Yield();
            try
            {
                await Connection.RunAsync().ConfigureAwait(false);
                await _output.CompleteAsync().ConfigureAwait(false);
                if (!Connection.Evicted)
                {
                    // A connection closed for being idle has no answer in flight to protect, and its slot is awaited.
                    await LingerAsync().ConfigureAwait(false);
                }
            }
            catch (Exception exception) when (exception is IOException or SocketException or ObjectDisposedException)
            {
                Log.ConnectionFailed(_context.Logger, Id, exception.Message);
            }
            finally
            {
                await _stream.DisposeAsync().ConfigureAwait(false);
                _socket.Dispose();
                onClosed();
                Log.ConnectionClosed(_context.Logger, Id);
                _completion.TrySetResult();
            }
        }
    }

    /// <summary>
    /// SIGTERM and SIGINT drain and stop the server, as <see cref="Exit"/> does; SIGHUP is not fatal (process
    /// managers send it to reload).
    /// </summary>
    private sealed class SignalHandlers : IDisposable
    {
        private readonly PosixSignalRegistration[] _registrations;

        public SignalHandlers(FastCgiServer server, ServerContext context)
        {
            _registrations =
            [
                PosixSignalRegistration.Create(PosixSignal.SIGTERM, signal => Stop(signal, server, context)),
                PosixSignalRegistration.Create(PosixSignal.SIGINT, signal => Stop(signal, server, context)),
                PosixSignalRegistration.Create(PosixSignal.SIGHUP, signal =>
                {
                    signal.Cancel = true;
                    Log.SignalReceived(context.Logger, "SIGHUP", "ignored");
                }),
            ];
        }

        public void Dispose()
        {
            foreach (var registration in _registrations)
            {
                registration.Dispose();
            }
        }

        private static void Stop(PosixSignalContext signal, FastCgiServer server, ServerContext context)
        {
            signal.Cancel = true;
            Log.SignalReceived(context.Logger, signal.Signal.ToString(), "draining and stopping");
            server.Exit();
        }
    }
}
