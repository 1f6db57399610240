using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Threading.Channels;
using FastCgi.Server.Transports;

namespace FastCgi.Tests.Support;

/// <summary>
/// A listener whose connections are pairs of in-memory pipes: a <see cref="FastCgi.Server.FastCgiHost"/> serves
/// them exactly as it serves sockets, and the test plays the web server on the other end.
/// </summary>
internal sealed class InMemoryListener : ITransportListener
{
    private readonly Channel<InMemoryTransportConnection> _pending = Channel.CreateUnbounded<InMemoryTransportConnection>();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Name => "memory";

    /// <summary>
    /// Completes when the host stopped accepting: a web server that connects from then on is refused, and the host
    /// admits no request any more.
    /// </summary>
    public Task Stopped => _stopped.Task;

    /// <summary>
    /// Connects a new web server from <paramref name="remote"/> (null: an address-less transport, as a Unix socket);
    /// <paramref name="outputOptions"/> shape the pipe the application writes to. With <paramref name="webServerReads"/>
    /// false the web server reads none of the response: see <see cref="InMemoryTransportConnection"/>.
    /// </summary>
    public InMemoryTransportConnection Connect(EndPoint? remote = null, PipeOptions? outputOptions = null, bool webServerReads = true)
    {
        var connection = new InMemoryTransportConnection(remote, outputOptions ?? PipeOptions.Default, webServerReads);
        if (!_pending.Writer.TryWrite(connection))
        {
            throw new InvalidOperationException("The listener stopped accepting.");
        }

        return connection;
    }

    public async ValueTask<ITransportConnection> AcceptAsync(CancellationToken cancellationToken)
    {
        var connection = await _pending.Reader.ReadAsync(cancellationToken);
        connection.MarkAccepted();
        return connection;
    }

    public void StopAccepting()
    {
        _pending.Writer.TryComplete();
        _stopped.TrySetResult();
    }

    public ValueTask DisposeAsync()
    {
        StopAccepting();
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// One in-memory connection: the application's ends of the pipes, and the web server's. What the application writes
/// is carried to the web server's end, and consumed only once the web server took it, so that the application's own
/// output pipe fills up and holds its writes back as a socket's send buffer would. Aborting it is closing a socket:
/// the application's input ends with an error, the web server reads the end of the connection, and what the
/// application writes from then on is lost. It has no kernel buffer: what the web server sends is in the application's
/// input pipe at once, so <see cref="HasUnreadInput"/> is always false.
/// A web server that reads none of the response takes its first bytes and then nothing: the application's output pipe
/// is never drained, so once one of its writes is held no more progress is possible. A web server that reads keeps up
/// to 64 KiB unread at its end, and a write held meanwhile may still go on as the carrying catches up.
/// </summary>
internal sealed class InMemoryTransportConnection : ITransportConnection
{
    private readonly Pipe _toApp = new(new PipeOptions(useSynchronizationContext: false));
    private readonly Pipe _fromApp;
    private readonly Pipe _toWebServer;
    private readonly CancellationTokenSource _aborted = new();
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _accepted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _carried;

    public InMemoryTransportConnection(EndPoint? remote, PipeOptions outputOptions, bool webServerReads = true)
    {
        RemoteEndPoint = remote;
        _fromApp = new Pipe(outputOptions);

        // Not reading: the carrying waits on the first bytes it hands over until they are all read, so it never takes
        // any from the application's pipe.
        _toWebServer = new Pipe(webServerReads
            ? new PipeOptions(useSynchronizationContext: false)
            : new PipeOptions(pauseWriterThreshold: 1, resumeWriterThreshold: 1, useSynchronizationContext: false));
        _carried = CarryAsync(_fromApp.Reader, _toWebServer.Writer, _aborted.Token);
    }

    public PipeReader Input => _toApp.Reader;

    public PipeWriter Output => _fromApp.Writer;

    public EndPoint? RemoteEndPoint { get; }

    public bool HasUnreadInput => false;

    /// <summary>The web server's side: what it sends.</summary>
    public PipeWriter ToApp => _toApp.Writer;

    /// <summary>The web server's side: what it receives.</summary>
    public PipeReader FromApp => _toWebServer.Reader;

    /// <summary>Completes when the host closed the connection.</summary>
    public Task Closed => _closed.Task;

    /// <summary>Completes when the host took the connection from the listener (its backlog).</summary>
    public Task Accepted => _accepted.Task;

    /// <summary>Whether the host reset the connection (a response failed half-way without FCGI_KEEP_CONN).</summary>
    public bool WasReset { get; private set; }

    /// <summary>The host took the connection from the listener.</summary>
    public void MarkAccepted() => _accepted.TrySetResult();

    public void Abort()
    {
        // Carrying stops first: what the application writes once it sees its input fail must not reach the web server.
        _aborted.Cancel();
        _toApp.Writer.Complete(new IOException("aborted"));
    }

    public void Reset()
    {
        WasReset = true;
        Abort();
    }

    public async ValueTask CloseAsync(bool linger) => await _fromApp.Writer.CompleteAsync();

    public async ValueTask DisposeAsync()
    {
        await _fromApp.Writer.CompleteAsync();
        await _carried;
        _aborted.Dispose();
        _closed.TrySetResult();
    }

    private static async Task CarryAsync(PipeReader from, PipeWriter to, CancellationToken aborted)
    {
        try
        {
            while (true)
            {
                var result = await from.ReadAsync(aborted);
                foreach (var segment in result.Buffer)
                {
                    to.Write(segment.Span);
                }

                var flushed = await to.FlushAsync(aborted);
                from.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || flushed.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Aborted: the connection ends here for the web server.
        }

        await from.CompleteAsync();
        await to.CompleteAsync();
    }
}
