namespace FastCgi.AspNetCore;

/// <summary>The FastCGI roles (spec 6) the application plays; a request for another role gets FCGI_UNKNOWN_ROLE.</summary>
[Flags]
public enum FastCgiRoles
{
    /// <summary>None: every request is refused.</summary>
    None = 0,

    /// <summary>Responder (spec 6.2): an ordinary HTTP request.</summary>
    Responder = 1,

    /// <summary>
    /// Authorizer (spec 6.3): the request runs through the application (at <see cref="FastCgiOptions.AuthorizerPath"/>
    /// when set); a 200 answer grants access and passes its <c>Variable-*</c> headers on.
    /// </summary>
    Authorizer = 2,

    /// <summary>Filter (spec 6.4): a responder that also reads the file to filter from <see cref="IFastCgiFeature.Data"/>.</summary>
    Filter = 4,
}
