namespace FastCgi;

/// <summary>
/// jonpy's <c>request_type</c>: which <see cref="Request"/> class serves each request, under FastCGI and under the
/// CGI fallback alike, as a pair of factories (no reflection, so trimming and NativeAOT keep working). An
/// application with its own request subclasses, for its own helpers, passes a pair of its own.
/// </summary>
/// <param name="FastCgi">Makes the request of one FastCGI request.</param>
/// <param name="Cgi">Makes the request of a plain CGI run.</param>
/// <example>
/// <code>
/// var options = new FastCgiServerOptions
/// {
///     RequestType = new(context => new MyRequest(context), () => new MyCgiRequest()),
/// };
/// </code>
/// </example>
public sealed record RequestType(Func<FastCgiRequestContext, FastCgiRequest> FastCgi, Func<CgiRequest> Cgi)
{
    /// <summary><see cref="FastCgiRequest"/> and <see cref="CgiRequest"/> (jonpy's <c>Request</c> and <c>CGIRequest</c>).</summary>
    public static RequestType Default { get; } = new(context => new FastCgiRequest(context), () => new CgiRequest());

    /// <summary>
    /// <see cref="GZipFastCgiRequest"/> and <see cref="GZipCgiRequest"/> (jonpy's <c>GZipRequest</c> and
    /// <c>GZipCGIRequest</c>): the body is compressed when the client accepts gzip.
    /// </summary>
    public static RequestType GZip { get; } = new(context => new GZipFastCgiRequest(context), () => new GZipCgiRequest());
}
