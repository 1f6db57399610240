namespace FastCgi.Connection;

/// <summary>
/// Where a request is in its life on the connection. It only moves forward:
/// <c>ReceivingParams → Starting → Running → Ending → Ended</c>; a request can end from any state (an abort before
/// its PARAMS ended, a lost connection). Whether it was aborted is <see cref="FastCgiRequestContext.AbortReason"/>,
/// which any state may carry.
/// </summary>
internal enum RequestState
{
    /// <summary>BEGIN_REQUEST arrived; the PARAMS stream has not ended (spec 5.2).</summary>
    ReceivingParams,

    /// <summary>PARAMS ended; the application is about to be called (after the current read, or queued).</summary>
    Starting,

    /// <summary>The application is serving the request.</summary>
    Running,

    /// <summary>The request left the connection's table; its last records (END_REQUEST) are being written.</summary>
    Ending,

    /// <summary>Done: nothing more of the request goes to the web server.</summary>
    Ended,
}
