namespace FastCgi.Protocol;

/// <summary>Fixed numbers and names of FastCGI 1.0 (spec 8).</summary>
internal static class FastCgiConstants
{
    /// <summary><c>FCGI_VERSION_1</c>, the only version there is (spec 3.3).</summary>
    public const byte Version = 1;

    /// <summary><c>FCGI_HEADER_LEN</c>: every record starts with an 8-byte header (spec 3.3).</summary>
    public const int HeaderLength = 8;

    /// <summary>The largest record content: <c>contentLength</c> is two bytes (spec 3.3).</summary>
    public const int MaxContentLength = ushort.MaxValue;

    /// <summary><c>FCGI_NULL_REQUEST_ID</c>: the request id of management records (spec 3.3).</summary>
    public const ushort NullRequestId = 0;

    /// <summary><c>FCGI_KEEP_CONN</c>, the flag of <c>FCGI_BEGIN_REQUEST</c> that keeps the connection open (spec 5.1).</summary>
    public const byte KeepConnection = 1;

    /// <summary><c>FCGI_MAX_CONNS</c>: how many concurrent connections the application accepts (spec 4.1).</summary>
    public const string MaxConns = "FCGI_MAX_CONNS";

    /// <summary><c>FCGI_MAX_REQS</c>: how many concurrent requests the application accepts (spec 4.1).</summary>
    public const string MaxReqs = "FCGI_MAX_REQS";

    /// <summary><c>FCGI_MPXS_CONNS</c>: "1" if the application multiplexes requests on a connection, else "0" (spec 4.1).</summary>
    public const string MpxsConns = "FCGI_MPXS_CONNS";
}
