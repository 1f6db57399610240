using Microsoft.Extensions.Logging;

namespace FastCgi.Server;

/// <summary>The host's log messages: listening, connections opened and closed, refusals, draining, signals.</summary>
internal static partial class ServerLog
{
    [LoggerMessage(1, LogLevel.Debug, "Connection {ConnectionId} opened from {Remote}")]
    public static partial void ConnectionOpened(ILogger logger, long connectionId, string remote);

    [LoggerMessage(2, LogLevel.Debug, "Connection {ConnectionId} closed")]
    public static partial void ConnectionClosed(ILogger logger, long connectionId);

    [LoggerMessage(4, LogLevel.Debug, "Connection {ConnectionId} failed: {Message}")]
    public static partial void ConnectionFailed(ILogger logger, long connectionId, string message);

    [LoggerMessage(5, LogLevel.Warning, "Accepting a connection failed: {Message}")]
    public static partial void AcceptFailed(ILogger logger, string message);

    [LoggerMessage(9, LogLevel.Warning, "Connection from {Remote} refused: not in FCGI_WEB_SERVER_ADDRS")]
    public static partial void ConnectionRefused(ILogger logger, string remote);

    [LoggerMessage(10, LogLevel.Information, "Listening on {Address} (threading level {Level})")]
    public static partial void Listening(ILogger logger, string address, int level);

    [LoggerMessage(11, LogLevel.Warning, "Shutdown timeout passed; aborting {Count} requests in flight")]
    public static partial void DrainTimedOut(ILogger logger, int count);

    [LoggerMessage(14, LogLevel.Information, "Signal {Signal}: {Action}")]
    public static partial void SignalReceived(ILogger logger, string signal, string action);

    [LoggerMessage(18, LogLevel.Information, "FCGI_MAX_CONNS ({Limit}) reached and no connection is idle: a new connection waits for one to close")]
    public static partial void WaitingForSlot(ILogger logger, int limit);

    [LoggerMessage(19, LogLevel.Warning, "A request blocked an I/O thread for more than {StallMs} ms (a synchronous wait: blocking I/O, a lock, Thread.Sleep); "
        + "its thread was replaced, and requests run on the thread pool for the next {Seconds} s, which is slower. "
        + "Await instead of blocking in ProcessAsync, or move the blocking work off the request's thread (Task.Run)")]
    public static partial void HandlerBlockedIoThread(ILogger logger, int stallMs, int seconds);
}
