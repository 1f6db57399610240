using FastCgi.Protocol;
using Microsoft.Extensions.Logging;

namespace FastCgi.Connection;

/// <summary>The server's log messages, with connection and request ids. None carries a parameter value.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Debug, "Connection {ConnectionId} opened from {Remote}")]
    public static partial void ConnectionOpened(ILogger logger, long connectionId, string remote);

    [LoggerMessage(2, LogLevel.Debug, "Connection {ConnectionId} closed")]
    public static partial void ConnectionClosed(ILogger logger, long connectionId);

    [LoggerMessage(3, LogLevel.Warning, "Connection {ConnectionId} closed: protocol error {Reason}: {Message}")]
    public static partial void ProtocolError(ILogger logger, long connectionId, ProtocolRejectionReason reason, string message);

    [LoggerMessage(4, LogLevel.Debug, "Connection {ConnectionId} failed: {Message}")]
    public static partial void ConnectionFailed(ILogger logger, long connectionId, string message);

    [LoggerMessage(6, LogLevel.Debug, "Connection {ConnectionId} request {RequestId} begun as {Role}")]
    public static partial void RequestBegun(ILogger logger, long connectionId, ushort requestId, Role role);

    [LoggerMessage(7, LogLevel.Debug, "Connection {ConnectionId} request {RequestId} ended (aborted: {Aborted})")]
    public static partial void RequestEnded(ILogger logger, long connectionId, ushort requestId, AbortReason aborted);

    [LoggerMessage(9, LogLevel.Warning, "Connection from {Remote} refused: not in FCGI_WEB_SERVER_ADDRS")]
    public static partial void ConnectionRefused(ILogger logger, string remote);

    [LoggerMessage(10, LogLevel.Information, "Listening on {Address} (threading level {Level})")]
    public static partial void Listening(ILogger logger, string address, int level);

    [LoggerMessage(11, LogLevel.Warning, "Shutdown timeout passed; aborting {Count} requests in flight")]
    public static partial void DrainTimedOut(ILogger logger, int count);

    [LoggerMessage(12, LogLevel.Warning, "Connection {ConnectionId} closed: timed out: {What}")]
    public static partial void TimedOut(ILogger logger, long connectionId, string what);

    [LoggerMessage(13, LogLevel.Warning, "Connection {ConnectionId} request {RequestId}: body over MaxRequestBodyBytes ({Limit} bytes), rejected with 413")]
    public static partial void BodyTooLarge(ILogger logger, long connectionId, ushort requestId, long limit);

    [LoggerMessage(14, LogLevel.Information, "Signal {Signal}: {Action}")]
    public static partial void SignalReceived(ILogger logger, string signal, string action);

    [LoggerMessage(15, LogLevel.Warning, "Connection {ConnectionId} request {RequestId} wrote to its error log after it ended: {Message}")]
    public static partial void ErrorAfterEnd(ILogger logger, long connectionId, ushort requestId, string message);

    [LoggerMessage(16, LogLevel.Information, "Connection {ConnectionId} closed while idle: FCGI_MAX_CONNS reached and a new connection waits")]
    public static partial void Evicted(ILogger logger, long connectionId);
}
