using System.Buffers;
using System.IO.Pipelines;
using FastCgi.Connection;
using FastCgi.Testing;

namespace FastCgi.Tests.Support;

/// <summary>
/// One <see cref="FastCgiConnection"/> over an in-memory duplex connection, with handlers chosen by the test, and the
/// <see cref="FakeWebServer"/> on the other end: the in-memory tier's only view of how a connection is built, so that
/// only this adapter changes when the transport does.
/// </summary>
internal sealed class InMemoryConnection : IAsyncDisposable
{
    private readonly CancellationTokenSource _aborted = new();

    public InMemoryConnection(Func<Handler> responder, FastCgiServerOptions? options = null, PipeOptions? outputOptions = null)
        : this(new Dictionary<Role, Func<Handler>> { [Role.Responder] = responder }, options, outputOptions)
    {
    }

    public InMemoryConnection(IReadOnlyDictionary<Role, Func<Handler>> handlers, FastCgiServerOptions? options = null, PipeOptions? outputOptions = null)
        : this(new ServerContext(handlers, options ?? new FastCgiServerOptions(), () => { }), outputOptions)
    {
    }

    /// <summary>Another connection to the same server (its limits and counters are shared).</summary>
    public InMemoryConnection(ServerContext server, PipeOptions? outputOptions = null)
    {
        var toApplication = new Pipe();
        var fromApplication = new Pipe(outputOptions ?? PipeOptions.Default);
        var toWebServer = new Pipe();
        Server = server;

        // Aborting the transport, as disposing a socket does: the input ends with an error, the web server reads the
        // end of the connection, and what the application writes from then on is lost.
        Connection = new FastCgiConnection(toApplication.Reader, fromApplication.Writer, server, 1, () =>
        {
            toApplication.Writer.Complete(new IOException("aborted"));
            _aborted.Cancel();
        });
        WebServer = new FakeWebServer(toWebServer.Reader, toApplication.Writer);
        var carried = CarryAsync(fromApplication.Reader, toWebServer.Writer, _aborted.Token);

        // As the server does when a connection ends: its output ends too, so the web server reads the close.
        Run = Task.Run(async () =>
        {
            await Connection.RunAsync();
            await fromApplication.Writer.CompleteAsync();
            await carried;
        });
    }

    public ServerContext Server { get; }

    public FastCgiConnection Connection { get; }

    /// <summary>The web server's end.</summary>
    public FakeWebServer WebServer { get; }

    /// <summary>The connection's read loop; it ends when the connection closes.</summary>
    public Task Run { get; }

    /// <summary>
    /// Lets <paramref name="time"/> pass for the connection's timeouts (input, write), without waiting: the server's
    /// once-a-second check, run as if that much time had gone by.
    /// </summary>
    public void AdvanceTime(TimeSpan time) => Connection.CheckTimeouts(Environment.TickCount64 + (long)time.TotalMilliseconds);

    public async ValueTask DisposeAsync()
    {
        // The web server goes away in both directions: the input ends and what the application still writes is lost.
        await WebServer.CloseAsync();
        await WebServer.DisposeAsync();
        await Run.WaitAsync(TimeSpan.FromSeconds(10));
        _aborted.Dispose();
    }

    /// <summary>Carries the application's output to the web server until either end closes or the transport is aborted.</summary>
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

                // Consumed only once the web server took it, so that the application's own output pipe is what fills up
                // and holds its writes back, as a socket's send buffer would.
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
            // The transport was aborted: the connection ends here for the web server.
        }

        await from.CompleteAsync();
        await to.CompleteAsync();
    }
}
