using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace FastCgi.Server;

/// <summary>
/// The host's open connections: the FCGI_MAX_CONNS slots, the longest-idle connection giving way to a new one,
/// the once-a-second timeout check, and draining on stop.
/// </summary>
internal sealed class ConnectionRegistry : IAsyncDisposable
{
    private readonly ConcurrentDictionary<long, ServedConnection> _connections = new();
    private readonly SemaphoreSlim _slots;
    private readonly ITimer _heartbeat;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly int _maxConnections;
    private readonly HostStatistics? _statistics;

    /// <param name="maxConnections">FCGI_MAX_CONNS.</param>
    /// <param name="time">The clock of the once-a-second check.</param>
    /// <param name="logger">Where waiting for a slot is logged.</param>
    /// <param name="statistics">What counts the connections; its listen queue is sampled once a second.</param>
    public ConnectionRegistry(int maxConnections, TimeProvider time, ILogger logger, HostStatistics? statistics = null)
    {
        _statistics = statistics;
        _slots = new SemaphoreSlim(maxConnections);
        _maxConnections = maxConnections;
        _time = time;
        _logger = logger;
        _heartbeat = time.CreateTimer(
            static state =>
            {
                var registry = (ConnectionRegistry)state!;
                foreach (var served in registry._connections.Values)
                {
                    served.Connection.CheckTimeouts();
                }

                // php-fpm's "max listen queue" is sampled on its heartbeat too.
                registry._statistics?.ReadListenQueue();
            },
            this,
            TimeSpan.FromSeconds(1),
            TimeSpan.FromSeconds(1));
    }

    /// <summary>
    /// Waits for a connection slot. At FCGI_MAX_CONNS an idle connection gives way to the new one; when every
    /// connection has a request in flight, the new one waits for a slot (and those after it in the listen backlog).
    /// </summary>
    public async ValueTask WaitForSlotAsync(CancellationToken cancellationToken)
    {
        if (!_slots.Wait(0, CancellationToken.None))
        {
            if (!CloseLongestIdle())
            {
                ServerLog.WaitingForSlot(_logger, _maxConnections);
            }

            await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The connections being served now.</summary>
    public IEnumerable<ServedConnection> Connections => _connections.Values;

    /// <summary>Serves <paramref name="served"/> in its slot; the task completes when it closed.</summary>
    public Task Serve(ServedConnection served)
    {
        _connections[served.Id] = served;
        _statistics?.ConnectionOpened();
        return served.RunAsync(() =>
        {
            _connections.TryRemove(served.Id, out _);
            _statistics?.ConnectionClosed();
            _slots.Release();
        });
    }

    /// <summary>Closes the connection that has been idle the longest, if any is idle; a busy one is never closed.</summary>
    /// <returns>Whether a connection was closed.</returns>
    public bool CloseLongestIdle()
    {
        while (true)
        {
            ServedConnection? oldest = null;
            var oldestSince = long.MaxValue;
            foreach (var served in _connections.Values)
            {
                // Ties go to the older connection.
                var since = served.Connection.IdleSince;
                if (since < oldestSince || (since == oldestSince && since < long.MaxValue && served.Id < oldest!.Id))
                {
                    oldest = served;
                    oldestSince = since;
                }
            }

            if (oldest is null)
            {
                return false;
            }

            // It may have begun a request since it was looked at: then try the next one.
            if (oldest.TryCloseIdle())
            {
                return true;
            }
        }
    }

    /// <summary>
    /// Lets every connection finish its requests within <paramref name="timeout"/>, refusing new ones; then aborts
    /// the rest (their END_REQUEST is still sent) and waits a little more for them to end.
    /// </summary>
    /// <param name="timeout">How long the requests in flight may take.</param>
    /// <param name="timedOut">Called when the timeout passed, before the requests left are aborted.</param>
    public async Task DrainAsync(TimeSpan timeout, Action timedOut)
    {
        foreach (var served in _connections.Values)
        {
            served.Connection.RequestStop();
        }

        var all = Task.WhenAll(_connections.Values.Select(c => c.Completion));
        try
        {
            await all.WaitAsync(timeout, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            timedOut();
            foreach (var served in _connections.Values)
            {
                served.Connection.AbortAll(AbortReason.WebServer);
            }

            await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(5), _time)).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _heartbeat.DisposeAsync().ConfigureAwait(false);
        _slots.Dispose();
    }
}
