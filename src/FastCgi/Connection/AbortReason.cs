namespace FastCgi.Connection;

/// <summary>Why a request was aborted (jonpy's <c>aborted</c>: 0, 1, 2).</summary>
public enum AbortReason
{
    /// <summary>The request is not aborted.</summary>
    None = 0,

    /// <summary>The web server gave up on the request (FCGI_ABORT_REQUEST: its client went away).</summary>
    WebServer = 1,

    /// <summary>The connection to the web server (or the CGI output pipe) broke.</summary>
    ConnectionLost = 2,
}
