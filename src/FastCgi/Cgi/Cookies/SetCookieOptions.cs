using FastCgi.Validation;

namespace FastCgi.Cgi;

/// <summary>
/// The attributes of a cookie set with <see cref="Request.SetCookie"/> (RFC 6265 section 4.1). Values that would
/// inject another attribute are refused when set.
/// </summary>
public sealed record SetCookieOptions
{
    /// <summary><c>Expires</c>: when the cookie expires. Default none (a session cookie).</summary>
    public DateTimeOffset? Expires { get; init; }

    /// <summary>
    /// <c>Max-Age</c>: how long the cookie lives, in whole seconds; zero or negative deletes it (RFC 6265 section
    /// 5.2.2). Default none.
    /// </summary>
    public TimeSpan? MaxAge { get; init; }

    /// <summary><c>Domain</c>. Default none (the request's host only).</summary>
    /// <exception cref="ArgumentException">The value holds <c>;</c> or a control character.</exception>
    public string? Domain
    {
        get;
        init => field = CheckAttribute(value, nameof(Domain));
    }

    /// <summary><c>Path</c>. Default none (the browser uses the request path's directory).</summary>
    /// <exception cref="ArgumentException">The value holds <c>;</c> or a control character.</exception>
    public string? Path
    {
        get;
        init => field = CheckAttribute(value, nameof(Path));
    }

    /// <summary><c>Secure</c>: only sent over HTTPS. Default false.</summary>
    public bool Secure { get; init; }

    /// <summary><c>HttpOnly</c>: hidden from scripts. Default false.</summary>
    public bool HttpOnly { get; init; }

    /// <summary><c>SameSite</c>. Default <see cref="CookieSameSite.Unspecified"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not one of the enum's.</exception>
    public CookieSameSite SameSite
    {
        get;
        init => field = OptionValidation.Defined(value, nameof(SameSite), "Not a CookieSameSite value.");
    }

    /// <summary><c>Partitioned</c> (CHIPS). Default false.</summary>
    public bool Partitioned { get; init; }

    /// <summary>An attribute value ends at <c>;</c> (RFC 6265 section 4.1.1), so one holding it would inject another.</summary>
    private static string? CheckAttribute(string? value, string attribute)
    {
        foreach (var c in value ?? "")
        {
            if (c == ';' || char.IsControl(c))
            {
                throw new ArgumentException($"The cookie's {attribute} holds ';' or a control character.", attribute);
            }
        }

        return value;
    }
}
