using System.IO.Pipelines;
using System.Net;
using FastCgi.Protocol;
using FastCgi.Server;
using FastCgi.Testing;
using Microsoft.Extensions.Time.Testing;

namespace FastCgi.Tests.Support;

/// <summary>
/// A real <see cref="FastCgiHost"/> serving the in-memory transport, with handlers chosen by the test: the server-level
/// tier's view of a running server. Its clock is a <see cref="FakeTimeProvider"/> unless the options bring their own,
/// so the input, write and shutdown timeouts pass only when the test advances it; signals are left alone.
/// </summary>
internal sealed class InMemoryServer : IAsyncDisposable
{
    public InMemoryServer(Func<Handler> responder, FastCgiServerOptions? options = null)
        : this(new Dictionary<Role, Func<Handler>> { [Role.Responder] = responder }, options)
    {
    }

    public InMemoryServer(IReadOnlyDictionary<Role, Func<Handler>> handlers, FastCgiServerOptions? options = null)
    {
        options ??= new FastCgiServerOptions();
        Time = options.TimeProvider == TimeProvider.System ? new FakeTimeProvider() : options.TimeProvider;
        options = options with { HandleSignals = false, TimeProvider = Time };
        Host = new FastCgiHost(new HandlerApplication(handlers, options.RequestType, options.RequestLimits), options);
        Run = Host.RunAsync(Listener, CancellationToken.None);
    }

    public InMemoryListener Listener { get; } = new();

    public FastCgiHost Host { get; }

    /// <summary>Completes when the host returned (stopped and drained).</summary>
    public Task Run { get; }

    /// <summary>The host's clock.</summary>
    public TimeProvider Time { get; }

    /// <summary>
    /// A web server connects from <paramref name="remote"/> (null: no address, as over a Unix socket); with
    /// <paramref name="webServerReads"/> false it reads none of the response (<see cref="InMemoryTransportConnection"/>).
    /// </summary>
    public WebServerConnection Connect(EndPoint? remote = null, PipeOptions? outputOptions = null, bool webServerReads = true) =>
        new(Listener.Connect(remote, outputOptions, webServerReads));

    /// <summary>Lets <paramref name="time"/> pass on the host's clock (its input, write and shutdown timeouts).</summary>
    public void AdvanceTime(TimeSpan time) => (Time as FakeTimeProvider ?? throw new InvalidOperationException("The options brought their own clock.")).Advance(time);

    /// <summary>Stops the host and waits until it has drained, within <see cref="Bounded.Limit"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync().AsTask().Within("the host to stop and drain");
        await Run.Within("the host's run to return");
    }
}

/// <summary>One web server connection to an <see cref="InMemoryServer"/>: the <see cref="FakeWebServer"/> on its end, and what the host did with it.</summary>
internal sealed class WebServerConnection(InMemoryTransportConnection transport) : IAsyncDisposable
{
    /// <summary>The web server's end.</summary>
    public FakeWebServer WebServer { get; } = new(transport.FromApp, transport.ToApp);

    /// <summary>Completes when the host took the connection from the listener's backlog.</summary>
    public Task Accepted => transport.Accepted;

    /// <summary>Completes when the host closed the connection.</summary>
    public Task Closed => transport.Closed;

    /// <summary>Whether the host reset the connection.</summary>
    public bool WasReset => transport.WasReset;

    /// <summary>
    /// The web server goes away in both directions: the input ends and what the application still writes is lost.
    /// A connection the host took is then closed by it, within <see cref="Bounded.Limit"/>.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        await WebServer.CloseAsync();
        await WebServer.DisposeAsync();
        if (Accepted.IsCompleted)
        {
            await Closed.Within("the host to close a connection the web server closed");
        }
    }
}
