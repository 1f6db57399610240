using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace FastCgi.Server.Transports;

/// <summary>
/// A listening socket: the one inherited as file descriptor 0 (spec 2.2: spawn-fcgi, lighttpd, mod_fcgid, systemd),
/// or one bound to a TCP or Unix address.
/// </summary>
internal sealed class SocketListener : ITransportListener
{
    private readonly Socket _socket;
    private readonly string? _unixPath;
    private readonly bool _inherited;
    private readonly TimeProvider _time;

    // Linux: the server's own epoll loops; elsewhere the runtime's sockets.
    private readonly Linux.EpollEngine? _engine;

    private SocketListener(Socket socket, bool inherited, string? unixPath, TimeProvider time, ILogger logger)
    {
        _socket = socket;
        _time = time;
        _inherited = inherited;
        _unixPath = unixPath;
        _engine = Linux.EpollEngine.TryCreate(logger);
        Name = socket.LocalEndPoint?.ToString() ?? "fd 0";
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <summary>
    /// Listens on <paramref name="listen"/> when given, else on the socket inherited as fd 0; null when there is no
    /// address and fd 0 is not a listening socket (the program was started as plain CGI). <paramref name="time"/> is the
    /// clock of its connections' lingering close; <paramref name="logger"/> hears of handlers that block an I/O thread.
    /// </summary>
    public static SocketListener? Open(string? listen, UnixFileMode unixSocketMode, TimeProvider time, ILogger logger)
    {
        if (listen is not null)
        {
            var unixPath = listen.StartsWith("unix:", StringComparison.Ordinal) ? listen["unix:".Length..] : null;
            return new SocketListener(ListenSocket.Bind(listen, unixSocketMode), inherited: false, unixPath, time, logger);
        }

        return ListenSocket.FromInheritedDescriptor() is { } inherited ? new SocketListener(inherited, inherited: true, unixPath: null, time, logger) : null;
    }

    /// <inheritdoc />
    public async ValueTask<ITransportConnection> AcceptAsync(CancellationToken cancellationToken)
    {
        var socket = await _socket.AcceptAsync(cancellationToken).ConfigureAwait(false);
        return _engine is null ? new SocketConnection(socket, _time) : _engine.Accept(socket, _time);
    }

    /// <inheritdoc />
    public ListenQueue? ReadListenQueue() => ListenQueue.Read(_socket);

    /// <inheritdoc />
    public void StopAccepting()
    {
        if (_inherited)
        {
            ListenSocket.CloseInherited(_socket);
        }
        else
        {
            _socket.Dispose();
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        _engine?.Dispose();
        if (_unixPath is not null)
        {
            File.Delete(_unixPath);
        }

        return ValueTask.CompletedTask;
    }
}
