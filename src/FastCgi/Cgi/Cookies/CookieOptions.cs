namespace FastCgi;

/// <summary>The <c>SameSite</c> attribute of a cookie.</summary>
public enum SameSiteMode
{
    /// <summary>No <c>SameSite</c> attribute: the browser's default applies.</summary>
    Unspecified,

    /// <summary><c>SameSite=Strict</c>.</summary>
    Strict,

    /// <summary><c>SameSite=Lax</c>.</summary>
    Lax,

    /// <summary><c>SameSite=None</c> (browsers require <see cref="CookieOptions.Secure"/> with it).</summary>
    None,
}

/// <summary>The attributes of a cookie set with <see cref="Request.SetCookie"/> (RFC 6265 section 4.1).</summary>
public sealed record CookieOptions
{
    /// <summary><c>Expires</c>: when the cookie expires. Default none (a session cookie).</summary>
    public DateTimeOffset? Expires { get; init; }

    /// <summary><c>Max-Age</c>: how long the cookie lives. Default none.</summary>
    public TimeSpan? MaxAge { get; init; }

    /// <summary><c>Domain</c>. Default none (the request's host only).</summary>
    public string? Domain { get; init; }

    /// <summary><c>Path</c>. Default none (the browser uses the request path's directory).</summary>
    public string? Path { get; init; }

    /// <summary><c>Secure</c>: only sent over HTTPS. Default false.</summary>
    public bool Secure { get; init; }

    /// <summary><c>HttpOnly</c>: hidden from scripts. Default false.</summary>
    public bool HttpOnly { get; init; }

    /// <summary><c>SameSite</c>. Default unspecified.</summary>
    public SameSiteMode SameSite { get; init; }

    /// <summary><c>Partitioned</c> (CHIPS). Default false.</summary>
    public bool Partitioned { get; init; }
}
