using FastCgi.Server.Transports;
using Microsoft.Extensions.Logging;

namespace FastCgi.Server;

/// <summary>One accepted transport and the protocol connection over it, from open to the lingering close.</summary>
internal sealed class ServedConnection
{
    private readonly ITransportConnection _transport;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ServedConnection(ITransportConnection transport, IFastCgiApplication application, FastCgiConnectionSettings settings, long id, ILogger logger)
    {
        _transport = transport;
        _logger = logger;
        Id = id;
        Connection = new FastCgiConnection(transport, application, settings, id, transport.Abort, transport.Reset);
        ServerLog.ConnectionOpened(_logger, id, transport.RemoteEndPoint?.ToString() ?? "unix");
    }

    public long Id { get; }

    public FastCgiConnection Connection { get; }

    public Task Completion => _completion.Task;

    /// <summary>Closes the connection if it is idle and nothing it sent is waiting to be read (a request on its way).</summary>
    public bool TryCloseIdle() => !_transport.HasUnreadInput && Connection.TryCloseIdle();

    /// <summary>Serves the connection, then closes it and calls <paramref name="onClosed"/>.</summary>
    public async Task RunAsync(Action onClosed)
    {
        // Yield so the accept loop goes on while this connection is served (levels 1 and 2).
        await Task.Yield();
        try
        {
            await Connection.RunAsync().ConfigureAwait(false);

            // A connection closed for being idle has no answer in flight to protect, and its slot is awaited.
            await _transport.CloseAsync(linger: !Connection.Evicted).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            ServerLog.ConnectionFailed(_logger, Id, exception.Message);
        }
        finally
        {
            await _transport.DisposeAsync().ConfigureAwait(false);
            onClosed();
            ServerLog.ConnectionClosed(_logger, Id);
            _completion.TrySetResult();
        }
    }
}
