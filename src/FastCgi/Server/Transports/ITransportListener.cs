using System.IO.Pipelines;
using System.Net;

namespace FastCgi.Server.Transports;

/// <summary>Where web server connections come from: a listening socket, or memory in tests.</summary>
internal interface ITransportListener : IAsyncDisposable
{
    /// <summary>What the log calls it: an address, or fd 0.</summary>
    string Name { get; }

    /// <summary>The next connection.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired.</exception>
    /// <exception cref="System.Net.Sockets.SocketException">Accepting failed (out of descriptors, say); the listener still works.</exception>
    ValueTask<ITransportConnection> AcceptAsync(CancellationToken cancellationToken);

    /// <summary>Refuses new connections from now on (those waiting in the backlog too), before the host drains.</summary>
    void StopAccepting();

    /// <summary>The listen queue now, or null where the system does not tell it (the status page says n/a).</summary>
    ListenQueue? ReadListenQueue() => null;
}

/// <summary>One web server connection as a duplex pipe, with the ways it can be closed.</summary>
internal interface ITransportConnection : IDuplexPipe, IAsyncDisposable
{
    /// <summary>Who connected, for FCGI_WEB_SERVER_ADDRS and the log; null when the transport has no address.</summary>
    EndPoint? RemoteEndPoint { get; }

    /// <summary>Whether bytes the web server sent wait to be read (a request on its way): then the connection is not idle.</summary>
    bool HasUnreadInput { get; }

    /// <summary>Closes at once (a timeout).</summary>
    void Abort();

    /// <summary>Closes abortively, so that the web server sees a failure (a TCP reset) where a close would look like the end of a response.</summary>
    void Reset();

    /// <summary>
    /// Closes gently once the connection is done: completes the output, and, when <paramref name="linger"/>, reads
    /// what the web server still sends for a moment so that a close with unread input does not reset the answer.
    /// </summary>
    ValueTask CloseAsync(bool linger);
}
