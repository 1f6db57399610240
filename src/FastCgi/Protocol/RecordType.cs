namespace FastCgi.Protocol;

/// <summary>The record types of FastCGI 1.0, byte 1 of the record header (spec 3.3, values from spec 8).</summary>
internal enum RecordType : byte
{
    /// <summary><c>FCGI_BEGIN_REQUEST</c>: starts a request (spec 5.1).</summary>
    BeginRequest = 1,

    /// <summary><c>FCGI_ABORT_REQUEST</c>: the web server gives up on a request (spec 5.4).</summary>
    AbortRequest = 2,

    /// <summary><c>FCGI_END_REQUEST</c>: the application finished a request (spec 5.5).</summary>
    EndRequest = 3,

    /// <summary><c>FCGI_PARAMS</c>: stream of name-value pairs, the CGI variables (spec 5.2).</summary>
    Params = 4,

    /// <summary><c>FCGI_STDIN</c>: stream, the request body (spec 5.3).</summary>
    Stdin = 5,

    /// <summary><c>FCGI_STDOUT</c>: stream, the CGI response (spec 5.3).</summary>
    Stdout = 6,

    /// <summary><c>FCGI_STDERR</c>: stream, error output (spec 5.3).</summary>
    Stderr = 7,

    /// <summary><c>FCGI_DATA</c>: stream, the file of the filter role (spec 5.3).</summary>
    Data = 8,

    /// <summary><c>FCGI_GET_VALUES</c>: management query of the application's variables (spec 4.1).</summary>
    GetValues = 9,

    /// <summary><c>FCGI_GET_VALUES_RESULT</c>: the answer to <see cref="GetValues"/> (spec 4.1).</summary>
    GetValuesResult = 10,

    /// <summary><c>FCGI_UNKNOWN_TYPE</c>: the answer to a management record the application does not know (spec 4.2).</summary>
    UnknownType = 11,
}
