namespace FastCgi.Connection;

/// <summary>
/// What a FastCGI connection runs for each request: jonpy's handler model (<see cref="FastCgiServer"/>) is one
/// implementation, and an application may implement it directly over the low-level
/// <see cref="FastCgiRequestContext"/>.
/// </summary>
public interface IFastCgiApplication
{
    /// <summary>
    /// Whether the application plays <paramref name="role"/>; a request for another role is refused with
    /// FCGI_UNKNOWN_ROLE (spec 5.5).
    /// </summary>
    bool Accepts(Role role);

    /// <summary>
    /// Serves one request, called when its PARAMS stream has ended. The application ends it with
    /// <see cref="FastCgiRequestContext.CompleteAsync"/> (or <see cref="FastCgiRequestContext.FailAsync"/>); one
    /// that returns without doing so is completed with application status 0. The context is valid until then.
    /// </summary>
    ValueTask ProcessRequestAsync(FastCgiRequestContext request);
}
