using System.IO.Pipelines;

namespace FastCgi.AspNetCore;

/// <summary>
/// What FastCGI tells the application beyond HTTP (<c>HttpContext.Features.Get&lt;IFastCgiFeature&gt;()</c>): the role,
/// the CGI variables exactly as the web server sent them, and a Filter's data.
/// </summary>
public interface IFastCgiFeature
{
    /// <summary>The role of the request (spec 6); a plain CGI run is a <see cref="Role.Responder"/>.</summary>
    Role Role { get; }

    /// <summary>Whether the request came from a plain CGI run (RFC 3875) rather than over FastCGI.</summary>
    bool IsCgi { get; }

    /// <summary>The request's id on its FastCGI connection (spec 3.3); 0 for CGI.</summary>
    int RequestId { get; }

    /// <summary>The CGI variables (the PARAMS stream, or the environment of a CGI run), values decoded as UTF-8.</summary>
    IReadOnlyDictionary<string, string> Params { get; }

    /// <summary>The PARAMS stream's bytes, name-value pairs as sent (spec 3.4); empty for CGI. Valid during the request.</summary>
    ReadOnlyMemory<byte> RawParams { get; }

    /// <summary>The file a Filter works on (FCGI_DATA, spec 6.4); empty for the other roles.</summary>
    PipeReader Data { get; }
}
