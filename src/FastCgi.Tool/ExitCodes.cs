namespace FastCgi.Tool;

/// <summary>The exit codes of <c>fcgi request</c> and <c>fcgi get-values</c> (1 is a usage error, from System.CommandLine).</summary>
internal static class ExitCodes
{
    /// <summary>The request completed: FCGI_END_REQUEST with FCGI_REQUEST_COMPLETE.</summary>
    public const int Completed = 0;

    /// <summary>The command line was wrong, or a file it names could not be read.</summary>
    public const int Usage = 1;

    /// <summary>The application could not be reached (connection refused, no such socket, program not started).</summary>
    public const int Unreachable = 2;

    /// <summary>The application closed the connection, broke the protocol or timed out before FCGI_END_REQUEST.</summary>
    public const int Incomplete = 3;

    /// <summary>FCGI_END_REQUEST came with another protocol status: FCGI_CANT_MPX_CONN, FCGI_OVERLOADED or FCGI_UNKNOWN_ROLE.</summary>
    public const int Rejected = 4;
}
