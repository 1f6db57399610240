namespace FastCgi.Protocol;

/// <summary>
/// The role the web server asks the application to play for one request, as sent in
/// <c>FCGI_BEGIN_REQUEST</c> (FastCGI spec 5.1 and 6). The values are the wire values.
/// </summary>
public enum Role : ushort
{
    /// <summary>
    /// <c>FCGI_RESPONDER</c>: receives the CGI variables and the request body and answers with a full CGI
    /// response (spec 6.2). The usual role.
    /// </summary>
    Responder = 1,

    /// <summary>
    /// <c>FCGI_AUTHORIZER</c>: receives the CGI variables only and grants access with status 200 or denies it
    /// with any other status (spec 6.3).
    /// </summary>
    Authorizer = 2,

    /// <summary>
    /// <c>FCGI_FILTER</c>: receives the CGI variables, the request body and a file (the DATA stream) and answers
    /// with a CGI response computed from that file (spec 6.4).
    /// </summary>
    Filter = 3,
}
