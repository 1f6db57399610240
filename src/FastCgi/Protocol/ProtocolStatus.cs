namespace FastCgi.Protocol;

/// <summary>The <c>protocolStatus</c> of an <c>FCGI_END_REQUEST</c> body (spec 5.5).</summary>
internal enum ProtocolStatus : byte
{
    /// <summary><c>FCGI_REQUEST_COMPLETE</c>: the request ended normally.</summary>
    RequestComplete = 0,

    /// <summary><c>FCGI_CANT_MPX_CONN</c>: a second request on a connection of an application that does not multiplex.</summary>
    CantMultiplexConnection = 1,

    /// <summary><c>FCGI_OVERLOADED</c>: the application ran out of a resource, such as request slots.</summary>
    Overloaded = 2,

    /// <summary><c>FCGI_UNKNOWN_ROLE</c>: the role in <c>FCGI_BEGIN_REQUEST</c> is not one the application plays.</summary>
    UnknownRole = 3,
}
