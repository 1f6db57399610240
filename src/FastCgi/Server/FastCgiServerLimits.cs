using FastCgi.Validation;

namespace FastCgi.Server;

/// <summary>
/// Limits the server enforces on what web servers may make it hold. They are the real values GET_VALUES reports
/// (FCGI_MAX_CONNS, FCGI_MAX_REQS), so a web server that asks knows where the edge is.
/// </summary>
public sealed record FastCgiServerLimits
{
    /// <summary>The defaults.</summary>
    public static FastCgiServerLimits Default { get; } = new();

    /// <summary>
    /// Most concurrent connections (FCGI_MAX_CONNS). An idle connection costs no request slot and no buffer, so
    /// the default is high; at the limit a new connection closes the connection idle the longest, and waits for
    /// a slot only when every connection has a request in flight. Lowered to what the process's open-file limit
    /// allows. Default 16384; always 1 at <see cref="ThreadingLevel.Sequential"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero or negative.</exception>
    public int MaxConnections
    {
        get;
        init => field = OptionValidation.Positive(value, nameof(MaxConnections));
    } = 16384;

    /// <summary>
    /// Most concurrent requests in the process (FCGI_MAX_REQS); a request past it is refused with
    /// FCGI_OVERLOADED. Default 1024; always 1 at <see cref="ThreadingLevel.Sequential"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero or negative.</exception>
    public int MaxConcurrentRequests
    {
        get;
        init => field = OptionValidation.Positive(value, nameof(MaxConcurrentRequests));
    } = 1024;

    /// <summary>
    /// Most concurrent requests on one connection at <see cref="ThreadingLevel.Multiplexed"/>; a request past it
    /// is refused with FCGI_OVERLOADED. Default 256.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero or negative.</exception>
    public int MaxRequestsPerConnection
    {
        get;
        init => field = OptionValidation.Positive(value, nameof(MaxRequestsPerConnection));
    } = 256;

    /// <summary>
    /// Most bytes of one request's PARAMS stream (the CGI meta-variables; nginx sends about 1 KiB). A request past
    /// it closes the connection as protocol abuse. Default 1 MiB.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero or negative.</exception>
    public int MaxParamsBytes
    {
        get;
        init => field = OptionValidation.Positive(value, nameof(MaxParamsBytes));
    } = 1024 * 1024;

    /// <summary>
    /// Bytes of request body (STDIN or DATA) held per request while the handler has not read them; past it the
    /// server stops reading from the connection until the handler catches up. Default 256 KiB.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero or negative.</exception>
    public int MaxBufferedInputBytes
    {
        get;
        init => field = OptionValidation.Positive(value, nameof(MaxBufferedInputBytes));
    } = 256 * 1024;

    /// <summary>
    /// Most CGI meta-variables in one request's PARAMS stream; past it the connection is closed as protocol
    /// abuse. Default 1000 (nginx sends about 30).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero or negative.</exception>
    public int MaxParamCount
    {
        get;
        init => field = OptionValidation.Positive(value, nameof(MaxParamCount));
    } = 1000;

    /// <summary>
    /// Longest name or value in the PARAMS stream, in bytes; past it the connection is closed as protocol abuse.
    /// Default 256 KiB (web servers cap a request header far lower, at 8 to 64 KiB).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero or negative.</exception>
    public int MaxParamLength
    {
        get;
        init => field = OptionValidation.Positive(value, nameof(MaxParamLength));
    } = 256 * 1024;

    /// <summary>
    /// Largest request body (STDIN) of one request, in bytes. Past it the application's next body read throws a
    /// <see cref="RequestBodyTooLargeException"/> (a handler's request answers 413). The body streams, so this
    /// bounds time, not memory.
    /// Default 2 GiB.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public long MaxRequestBodyBytes
    {
        get;
        init => field = OptionValidation.NotNegative(value, nameof(MaxRequestBodyBytes));
    } = 2L * 1024 * 1024 * 1024;

    /// <summary>
    /// How long a new connection may take to send a request's whole PARAMS stream, and how long the input of a
    /// request may stall (no bytes arriving while a request still waits for PARAMS, STDIN or DATA). Past it the
    /// connection is closed. An idle kept-alive connection with no request in flight is never timed out: its
    /// lifetime is the web server's to decide. Default 30 s.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero or negative.</exception>
    public TimeSpan InputTimeout
    {
        get;
        init => field = OptionValidation.Positive(value, nameof(InputTimeout));
    } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a write to the web server may wait for it to read (a web server that stopped reading the
    /// response). Past it the connection is closed and its requests are aborted. Default 60 s.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero or negative.</exception>
    public TimeSpan WriteTimeout
    {
        get;
        init => field = OptionValidation.Positive(value, nameof(WriteTimeout));
    } = TimeSpan.FromSeconds(60);
}
