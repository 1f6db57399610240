namespace FastCgi.Server.Transports.Linux;

/// <summary>
/// How long the epoll engine hands events to the thread pool after a handler blocked a loop thread: 1 s after a
/// first stall, doubling with each stall up to 5 minutes, and back to 1 s once the application has gone as long
/// without a stall as the last caution lasted. Times are in any one unit (the engine's are
/// <see cref="System.Diagnostics.Stopwatch"/> ticks); not thread-safe (the engine calls it under its lock).
/// </summary>
internal sealed class StallCaution(long initial, long max)
{
    private long _next;
    private long _last;

    /// <summary>Until when events go to the thread pool.</summary>
    public long Until { get; private set; }

    /// <summary>
    /// A stall at <paramref name="now"/>: events go to the thread pool for <paramref name="period"/> from now. True
    /// when the engine was not cautious already, so the stall is worth a warning: one per cautious period.
    /// </summary>
    public bool Stall(long now, out long period)
    {
        if (_last == 0 || now - Until >= _last)
        {
            _next = initial;
        }

        var news = now >= Until;
        period = _next;
        Until = now + period;
        _last = period;
        _next = Math.Min(period * 2, max);
        return news;
    }
}
