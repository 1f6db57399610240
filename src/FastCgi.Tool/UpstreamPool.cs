using System.Net;

namespace FastCgi.Tool;

/// <summary>A connection taken from an <see cref="UpstreamPool"/>: whether it served a request before, and the pool's generation then.</summary>
internal readonly record struct Upstream(RecordChannel Channel, bool Reused, long Generation);

/// <summary>
/// The connections <c>fcgi serve</c> keeps to one application, as nginx's <c>upstream { keepalive N; }</c> with
/// <c>fastcgi_keep_conn on</c>: a request takes an idle connection if there is one, else opens a new one, and gives
/// it back only when it is fit for the next request. At most <see cref="MaxIdle"/> idle connections are kept;
/// <see cref="Clear"/> (the application restarted) closes them, and connections taken before it are not kept.
/// </summary>
internal sealed class UpstreamPool(EndPoint endPoint) : IDisposable
{
    /// <summary>Idle connections kept at most (connections in use are not limited).</summary>
    public const int MaxIdle = 16;

    private readonly Lock _lock = new();
    private readonly Stack<RecordChannel> _idle = new();
    private long _generation;
    private bool _disposed;

    /// <summary>An idle connection still open, else a new one.</summary>
    /// <exception cref="System.Net.Sockets.SocketException">The application could not be reached.</exception>
    public async Task<Upstream> RentAsync(CancellationToken cancellationToken)
    {
        long generation;
        while (true)
        {
            RecordChannel? idle = null;
            lock (_lock)
            {
                generation = _generation;
                if (_idle.Count > 0)
                {
                    idle = _idle.Pop();
                }
            }

            if (idle is null)
            {
                break;
            }

            // An application may close a connection while it is idle (its idle timeout, its exit); one that became
            // readable while nothing was asked is closed or out of step.
            if (idle.IsQuiet())
            {
                return new Upstream(idle, Reused: true, generation);
            }

            idle.Dispose();
        }

        var socket = await AppAddress.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
        return new Upstream(new RecordChannel(socket, null), Reused: false, generation);
    }

    /// <summary>
    /// Gives a connection back: kept when <paramref name="reusable"/> (its request ended with FCGI_END_REQUEST, was
    /// sent and read whole, and was not aborted), the pool was not cleared since it was taken, and there is room;
    /// closed otherwise.
    /// </summary>
    public void Return(Upstream upstream, bool reusable)
    {
        if (reusable)
        {
            lock (_lock)
            {
                if (!_disposed && upstream.Generation == _generation && _idle.Count < MaxIdle)
                {
                    _idle.Push(upstream.Channel);
                    return;
                }
            }
        }

        upstream.Channel.Dispose();
    }

    /// <summary>Closes the idle connections, and keeps none of those in use: the application behind them is gone.</summary>
    public void Clear()
    {
        RecordChannel[] closing;
        lock (_lock)
        {
            _generation++;
            closing = [.. _idle];
            _idle.Clear();
        }

        foreach (var channel in closing)
        {
            channel.Dispose();
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
        }

        Clear();
    }
}
