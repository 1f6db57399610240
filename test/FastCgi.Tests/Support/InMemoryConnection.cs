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
        Server = server;
        Connection = new FastCgiConnection(toApplication.Reader, fromApplication.Writer, server, 1, () => toApplication.Writer.Complete(new IOException("aborted")));
        WebServer = new FakeWebServer(fromApplication.Reader, toApplication.Writer);

        // As the server does when a connection ends: its output ends too, so the web server reads the close.
        Run = Task.Run(async () =>
        {
            await Connection.RunAsync();
            await fromApplication.Writer.CompleteAsync();
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
        await WebServer.CloseAsync();
        await Run.WaitAsync(TimeSpan.FromSeconds(10));
        await WebServer.DisposeAsync();
    }
}
