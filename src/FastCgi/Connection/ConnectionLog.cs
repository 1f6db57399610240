using Microsoft.Extensions.Logging;

namespace FastCgi.Connection;

/// <summary>A connection's log messages, with connection and request ids. None carries a parameter value.</summary>
internal static partial class ConnectionLog
{
    [LoggerMessage(3, LogLevel.Warning, "Connection {ConnectionId} closed: protocol error {Reason}: {Message}")]
    public static partial void ProtocolError(ILogger logger, long connectionId, ProtocolRejectionReason reason, string message);

    [LoggerMessage(4, LogLevel.Debug, "Connection {ConnectionId} failed: {Message}")]
    public static partial void ConnectionFailed(ILogger logger, long connectionId, string message);

    [LoggerMessage(6, LogLevel.Debug, "Connection {ConnectionId} request {RequestId} begun as {Role}")]
    public static partial void RequestBegun(ILogger logger, long connectionId, ushort requestId, Role role);

    [LoggerMessage(7, LogLevel.Debug, "Connection {ConnectionId} request {RequestId} ended (aborted: {Aborted})")]
    public static partial void RequestEnded(ILogger logger, long connectionId, ushort requestId, AbortReason aborted);

    [LoggerMessage(12, LogLevel.Warning, "Connection {ConnectionId} closed: timed out: {What}")]
    public static partial void TimedOut(ILogger logger, long connectionId, string what);

    [LoggerMessage(13, LogLevel.Warning, "Connection {ConnectionId} request {RequestId}: body over MaxRequestBodyBytes ({Limit} bytes), rejected with 413")]
    public static partial void BodyTooLarge(ILogger logger, long connectionId, ushort requestId, long limit);

    [LoggerMessage(15, LogLevel.Warning, "Connection {ConnectionId} request {RequestId} wrote to its error log after it ended: {Message}")]
    public static partial void ErrorAfterEnd(ILogger logger, long connectionId, ushort requestId, string message);

    [LoggerMessage(16, LogLevel.Information, "Connection {ConnectionId} closed while idle: FCGI_MAX_CONNS reached and a new connection waits")]
    public static partial void Evicted(ILogger logger, long connectionId);

    [LoggerMessage(17, LogLevel.Error, "Connection {ConnectionId} request {RequestId}: the application failed: {Message}")]
    public static partial void ApplicationFailed(ILogger logger, long connectionId, ushort requestId, string message);
}
