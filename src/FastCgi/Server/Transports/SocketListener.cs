using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace FastCgi.Server.Transports;

/// <summary>
/// The listening sockets: one bound to a TCP or Unix address, those systemd passes (sd_listen_fds(3)), or the one
/// inherited as file descriptor 0 (spec 2.2: spawn-fcgi, lighttpd, mod_fcgid, systemd's <c>StandardInput=socket</c>).
/// Connections from all of them are served alike.
/// </summary>
internal sealed class SocketListener : ITransportListener
{
    private readonly Listening[] _sockets;
    private readonly TimeProvider _time;

    // Linux: the server's own epoll loops; elsewhere the runtime's sockets.
    private readonly Linux.EpollEngine? _engine;

    // With several sockets, an accept waits on each; one that completed is handed out by the next AcceptAsync.
    private readonly Task<Socket>?[] _accepts;
    private readonly CancellationTokenSource _stopping = new();
    private int _next;

    private SocketListener(Listening[] sockets, TimeProvider time, ILogger logger)
    {
        _sockets = sockets;
        _accepts = new Task<Socket>?[sockets.Length];
        _time = time;
        _engine = Linux.EpollEngine.TryCreate(logger);
        Name = string.Join(", ", sockets.Select(s => s.Name));
    }

    /// <summary>How each socket was found, which decides how it is closed.</summary>
    private enum Origin
    {
        /// <summary>Bound by the host: closed, and a Unix socket's file removed.</summary>
        Bound,

        /// <summary>File descriptor 0, which the runtime duplicates: every descriptor of it closed.</summary>
        DescriptorZero,

        /// <summary>Passed by systemd, which keeps the socket and its file: this process's descriptor closed.</summary>
        Systemd,
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <summary>
    /// Listens on <paramref name="listen"/> when given, else on the sockets systemd passed this process, else on the
    /// socket inherited as fd 0; null when there is none of these (the program was started as plain CGI).
    /// <paramref name="time"/> is the clock of its connections' lingering close; <paramref name="logger"/> hears of
    /// handlers that block an I/O thread.
    /// </summary>
    /// <exception cref="InvalidOperationException">systemd's variables are meant for this process but cannot be used (<see cref="SystemdSockets.Take"/>).</exception>
    public static SocketListener? Open(string? listen, UnixFileMode unixSocketMode, TimeProvider time, ILogger logger)
    {
        if (listen is not null)
        {
            var unixPath = listen.StartsWith("unix:", StringComparison.Ordinal) ? listen["unix:".Length..] : null;
            var socket = ListenSocket.Bind(listen, unixSocketMode);
            return new SocketListener([new Listening(socket, Origin.Bound, socket.LocalEndPoint?.ToString() ?? listen, unixPath)], time, logger);
        }

        if (SystemdSockets.Take() is { } passed)
        {
            return FromSystemd(passed, time, logger);
        }

        return ListenSocket.FromInheritedDescriptor() is { } inherited
            ? new SocketListener([new Listening(inherited, Origin.DescriptorZero, inherited.LocalEndPoint?.ToString() ?? "fd 0", null)], time, logger)
            : null;
    }

    /// <summary>Listens on the sockets <see cref="SystemdSockets.Take"/> returned.</summary>
    public static SocketListener FromSystemd(IReadOnlyList<(Socket Socket, string Name)> passed, TimeProvider time, ILogger logger) =>
        new([.. passed.Select(p => new Listening(p.Socket, Origin.Systemd, p.Name, null))], time, logger);

    /// <inheritdoc />
    public async ValueTask<ITransportConnection> AcceptAsync(CancellationToken cancellationToken)
    {
        var socket = _sockets.Length == 1
            ? await _sockets[0].Socket.AcceptAsync(cancellationToken).ConfigureAwait(false)
            : await AcceptAnyAsync(cancellationToken).ConfigureAwait(false);
        return _engine is null ? new SocketConnection(socket, _time) : _engine.Accept(socket, _time);
    }

    /// <inheritdoc />
    public ListenQueue? ReadListenQueue() => ListenQueue.Read([.. _sockets.Select(listening => listening.Socket)]);

    /// <inheritdoc />
    public void StopAccepting()
    {
        foreach (var listening in _sockets)
        {
            if (listening.Origin == Origin.DescriptorZero)
            {
                ListenSocket.CloseInherited(listening.Socket);
            }
            else
            {
                listening.Socket.Dispose();
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (var listening in _sockets)
        {
            listening.Socket.Dispose();
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach (var accept in _accepts)
        {
            if (accept is null)
            {
                continue;
            }

            try
            {
                // A connection accepted but never handed out: closed, as the host closes those it was serving.
                (await accept.ConfigureAwait(false)).Dispose();
            }
            catch (Exception exception) when (exception is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                // The listening socket closed under the accept.
            }
        }

        _stopping.Dispose();
        _engine?.Dispose();
        foreach (var listening in _sockets)
        {
            if (listening.UnixPath is not null)
            {
                File.Delete(listening.UnixPath);
            }
        }
    }

    /// <summary>
    /// The next connection on any socket. Sockets with a connection ready take turns, so a busy one cannot starve the
    /// others; a failed accept is reported once and that socket's accept starts again on the next call.
    /// </summary>
    private async Task<Socket> AcceptAnyAsync(CancellationToken cancellationToken)
    {
        for (var i = 0; i < _sockets.Length; i++)
        {
            _accepts[i] ??= _sockets[i].Socket.AcceptAsync(_stopping.Token).AsTask();
        }

        var ready = -1;
        for (var turn = 0; turn < _accepts.Length && ready < 0; turn++)
        {
            var i = (_next + turn) % _accepts.Length;
            ready = _accepts[i]!.IsCompleted ? i : -1;
        }

        if (ready < 0)
        {
            var completed = await Task.WhenAny(_accepts!).WaitAsync(cancellationToken).ConfigureAwait(false);
            ready = Array.IndexOf(_accepts, completed);
        }

        var accept = _accepts[ready]!;
        _accepts[ready] = null;
        _next = (ready + 1) % _accepts.Length;
        return await accept.ConfigureAwait(false);
    }

    /// <summary>One listening socket, what the log calls it, and the Unix socket file the host created for it.</summary>
    private sealed record Listening(Socket Socket, Origin Origin, string Name, string? UnixPath);
}
