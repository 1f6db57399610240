using System.IO.Pipelines;
using FastCgi.Protocol;
using FastCgi.Server;
using FastCgi.Testing;

namespace FastCgi.Tests.Support;

/// <summary>
/// One web server connection to an <see cref="InMemoryServer"/> of its own, with handlers chosen by the test: the
/// connection-level tier's view of a connection. The host's clock is a fake one unless the options bring their own,
/// so timeouts pass when the test advances it (<see cref="AdvanceTime"/>); the host stops when its last connection
/// is disposed.
/// </summary>
internal sealed class InMemoryConnection : IAsyncDisposable
{
    private readonly WebServerConnection _connection;
    private readonly Shared _shared;

    public InMemoryConnection(Func<Handler> responder, FastCgiServerOptions? options = null, PipeOptions? outputOptions = null)
        : this(new Dictionary<Role, Func<Handler>> { [Role.Responder] = responder }, options, outputOptions)
    {
    }

    /// <summary>A connection to a host of its own; with <paramref name="webServerReads"/> false the web server reads none of the response.</summary>
    public InMemoryConnection(IReadOnlyDictionary<Role, Func<Handler>> handlers, FastCgiServerOptions? options = null, PipeOptions? outputOptions = null, bool webServerReads = true)
        : this(new Shared(new InMemoryServer(handlers, options)), outputOptions, webServerReads)
    {
    }

    private InMemoryConnection(Shared shared, PipeOptions? outputOptions, bool webServerReads = true)
    {
        _shared = shared;
        shared.Connections++;
        _connection = shared.Server.Connect(outputOptions: outputOptions, webServerReads: webServerReads);
    }

    /// <summary>The web server's end.</summary>
    public FakeWebServer WebServer => _connection.WebServer;

    /// <summary>Completes when the host closed the connection.</summary>
    public Task Run => _connection.Closed;

    /// <summary>Whether the host reset the connection.</summary>
    public bool WasReset => _connection.WasReset;

    /// <summary>The host serving this connection and those made with <see cref="ConnectAnother"/>.</summary>
    public FastCgiHost Host => _shared.Server.Host;

    /// <summary>Completes when the host stopped accepting (<see cref="FastCgiHost.Stop"/>): it admits no request from then on.</summary>
    public Task StoppedAccepting => _shared.Server.Listener.Stopped;

    /// <summary>Another web server connection to the same host (its limits and counters are shared).</summary>
    public InMemoryConnection ConnectAnother(PipeOptions? outputOptions = null) => new(_shared, outputOptions);

    /// <summary>Lets <paramref name="time"/> pass on the host's clock (its input, write and shutdown timeouts).</summary>
    public void AdvanceTime(TimeSpan time) => _shared.Server.AdvanceTime(time);

    public async ValueTask DisposeAsync()
    {
        await _connection.DisposeAsync();
        if (--_shared.Connections == 0)
        {
            await _shared.Server.DisposeAsync();
        }
    }

    /// <summary>The server the connections made with <see cref="ConnectAnother"/> share, and how many are open.</summary>
    private sealed class Shared(InMemoryServer server)
    {
        public InMemoryServer Server { get; } = server;

        public int Connections { get; set; }
    }
}
