namespace FastCgi.Cgi;

/// <summary>The <c>SameSite</c> attribute of a cookie set with <see cref="Request.SetCookie"/>.</summary>
public enum CookieSameSite
{
    /// <summary>No <c>SameSite</c> attribute: the browser's default applies.</summary>
    Unspecified,

    /// <summary><c>SameSite=Strict</c>.</summary>
    Strict,

    /// <summary><c>SameSite=Lax</c>.</summary>
    Lax,

    /// <summary><c>SameSite=None</c> (browsers require <see cref="SetCookieOptions.Secure"/> with it).</summary>
    None,
}
