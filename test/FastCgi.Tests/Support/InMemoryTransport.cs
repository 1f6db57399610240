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

    public string Name => "memory";

    /// <summary>Connects a new web server; <paramref name="outputOptions"/> shape the pipe the application writes to.</summary>
    public InMemoryTransportConnection Connect(PipeOptions? outputOptions = null)
    {
        var connection = new InMemoryTransportConnection(outputOptions ?? PipeOptions.Default);
        if (!_pending.Writer.TryWrite(connection))
        {
            throw new InvalidOperationException("The listener stopped accepting.");
        }

        return connection;
    }

    public async ValueTask<ITransportConnection> AcceptAsync(CancellationToken cancellationToken) =>
        await _pending.Reader.ReadAsync(cancellationToken);

    public void StopAccepting() => _pending.Writer.TryComplete();

    public ValueTask DisposeAsync()
    {
        StopAccepting();
        return ValueTask.CompletedTask;
    }
}

/// <summary>One in-memory connection: the application's ends of the pipes, and the web server's.</summary>
internal sealed class InMemoryTransportConnection : ITransportConnection
{
    private readonly Pipe _toApp = new(new PipeOptions(useSynchronizationContext: false));
    private readonly Pipe _fromApp;
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public InMemoryTransportConnection(PipeOptions outputOptions)
    {
        _fromApp = new Pipe(outputOptions);
    }

    public PipeReader Input => _toApp.Reader;

    public PipeWriter Output => _fromApp.Writer;

    public EndPoint? RemoteEndPoint => null;

    public bool HasUnreadInput => false;

    /// <summary>The web server's side: what it sends.</summary>
    public PipeWriter ToApp => _toApp.Writer;

    /// <summary>The web server's side: what it receives.</summary>
    public PipeReader FromApp => _fromApp.Reader;

    /// <summary>Completes when the host closed the connection.</summary>
    public Task Closed => _closed.Task;

    /// <summary>Whether the host reset the connection (a response failed half-way without FCGI_KEEP_CONN).</summary>
    public bool WasReset { get; private set; }

    public void Abort() => _toApp.Writer.Complete(new IOException("aborted"));

    public void Reset()
    {
        WasReset = true;
        Abort();
    }

    public async ValueTask CloseAsync(bool linger) => await _fromApp.Writer.CompleteAsync();

    public async ValueTask DisposeAsync()
    {
        await _fromApp.Writer.CompleteAsync();
        _closed.TrySetResult();
    }
}
