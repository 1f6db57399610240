using System.Net;
using System.Net.Sockets;

namespace FastCgi.Tool;

/// <summary>An address made reachable: a socket address as it is, or a program spawned for the command's lifetime.</summary>
internal sealed class AppConnector : IAsyncDisposable
{
    private AppConnector(EndPoint endPoint, SpawnedApp? app)
    {
        EndPoint = endPoint;
        App = app;
    }

    public EndPoint EndPoint { get; }

    /// <summary>The program the tool started, if the address was a command.</summary>
    public SpawnedApp? App { get; }

    /// <summary>Spawns the program of a command address (its output to the tool's stderr when <paramref name="quiet"/>).</summary>
    public static AppConnector Open(AppAddress address, bool quiet, TextWriter? log = null)
    {
        if (address.EndPoint is not null)
        {
            return new AppConnector(address.EndPoint, null);
        }

        var app = SpawnedApp.Start(address.Command!, quiet, restart: false, log);
        return new AppConnector(app.EndPoint, app);
    }

    public Task<Socket> ConnectAsync(CancellationToken cancellationToken) => AppAddress.ConnectAsync(EndPoint, cancellationToken);

    public ValueTask DisposeAsync() => App?.DisposeAsync() ?? ValueTask.CompletedTask;
}
