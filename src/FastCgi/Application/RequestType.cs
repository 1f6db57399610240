namespace FastCgi;

/// <summary>
/// jonpy's <c>request_type</c>: which <see cref="FastCgiRequest"/> class serves each request, as a factory (no
/// reflection, so trimming and NativeAOT keep working). The CGI fallback serves its one request through the same
/// factory, so one class serves both. An application with its own request subclass, for its own helpers, passes a
/// factory of its own.
/// </summary>
/// <param name="Create">Makes the request over the connection's low-level request.</param>
/// <example>
/// <code>
/// var options = new FastCgiServerOptions { RequestType = new(context => new MyRequest(context)) };
/// </code>
/// </example>
public sealed record RequestType(Func<FastCgiRequestContext, FastCgiRequest> Create)
{
    /// <summary><see cref="FastCgiRequest"/> (jonpy's <c>Request</c>).</summary>
    public static RequestType Default { get; } = new(context => new FastCgiRequest(context));

    /// <summary>
    /// <see cref="GZipFastCgiRequest"/> (jonpy's <c>GZipRequest</c>): the body is compressed when the client accepts
    /// gzip.
    /// </summary>
    public static RequestType GZip { get; } = new(context => new GZipFastCgiRequest(context));
}
