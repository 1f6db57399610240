using System.IO.Pipelines;
using FastCgi.Protocol;
using FastCgi.Server;
using FastCgi.Testing;
using Microsoft.Extensions.Time.Testing;

namespace FastCgi.Tests.Support;

/// <summary>
/// One web server connection to a <see cref="FastCgiHost"/> over the in-memory transport, with handlers chosen by
/// the test, and the <see cref="FakeWebServer"/> on the web server's end: the in-memory tier's only view of how a
/// connection is built. The host's clock is a fake one unless the options bring their own, so timeouts pass when the
/// test advances it (<see cref="AdvanceTime"/>).
/// </summary>
internal sealed class InMemoryConnection : IAsyncDisposable
{
    private readonly InMemoryTransportConnection _transport;
    private readonly Shared _shared;

    public InMemoryConnection(Func<Handler> responder, FastCgiServerOptions? options = null, PipeOptions? outputOptions = null)
        : this(new Dictionary<Role, Func<Handler>> { [Role.Responder] = responder }, options, outputOptions)
    {
    }

    public InMemoryConnection(IReadOnlyDictionary<Role, Func<Handler>> handlers, FastCgiServerOptions? options = null, PipeOptions? outputOptions = null)
        : this(new Shared(handlers, options ?? new FastCgiServerOptions()), outputOptions)
    {
    }

    private InMemoryConnection(Shared shared, PipeOptions? outputOptions)
    {
        _shared = shared;
        shared.Connections++;
        _transport = shared.Listener.Connect(outputOptions);
        WebServer = new FakeWebServer(_transport.FromApp, _transport.ToApp);
    }

    /// <summary>The web server's end.</summary>
    public FakeWebServer WebServer { get; }

    /// <summary>Completes when the host closed the connection.</summary>
    public Task Run => _transport.Closed;

    /// <summary>Whether the host reset the connection.</summary>
    public bool WasReset => _transport.WasReset;

    /// <summary>The host serving this connection and those made with <see cref="ConnectAnother"/>.</summary>
    public FastCgiHost Host => _shared.Host;

    /// <summary>Another web server connection to the same host (its limits and counters are shared).</summary>
    public InMemoryConnection ConnectAnother(PipeOptions? outputOptions = null) => new(_shared, outputOptions);

    /// <summary>Lets <paramref name="time"/> pass on the host's clock (its input, write and shutdown timeouts).</summary>
    public void AdvanceTime(TimeSpan time) => (_shared.Time as FakeTimeProvider ?? throw new InvalidOperationException("The options brought their own clock.")).Advance(time);

    public async ValueTask DisposeAsync()
    {
        // The web server goes away in both directions: the input ends and what the application still writes is lost.
        await WebServer.CloseAsync();
        await WebServer.DisposeAsync();
        await Run.WaitAsync(TimeSpan.FromSeconds(10));
        if (--_shared.Connections == 0)
        {
            await _shared.Host.DisposeAsync();
            await _shared.HostRun.WaitAsync(TimeSpan.FromSeconds(10));
        }
    }

    /// <summary>The host and listener the connections to one server share.</summary>
    private sealed class Shared
    {
        public Shared(IReadOnlyDictionary<Role, Func<Handler>> handlers, FastCgiServerOptions options)
        {
            Time = options.TimeProvider == TimeProvider.System ? new FakeTimeProvider() : options.TimeProvider;
            options = options with { HandleSignals = false, TimeProvider = Time };
            Host = new FastCgiHost(new HandlerApplication(handlers, options.RequestType, options.RequestLimits), options);
            HostRun = Host.RunAsync(Listener, CancellationToken.None);
        }

        public InMemoryListener Listener { get; } = new();

        public FastCgiHost Host { get; }

        public Task HostRun { get; }

        public TimeProvider Time { get; }

        public int Connections { get; set; }
    }
}
