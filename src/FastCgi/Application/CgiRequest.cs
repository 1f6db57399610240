using System.Collections;
using FastCgi.Cgi;

namespace FastCgi;

/// <summary>
/// A plain CGI request (RFC 3875): the meta-variables from the environment, the body on stdin, the response on
/// stdout, the error log on stderr. One process, one request.
/// </summary>
/// <example>
/// <code>return CgiRequest.Run(() => new Hello());</code>
/// </example>
public class CgiRequest : Request
{
    private readonly Stream _stdout;
    private readonly Stream _stderr;
    private readonly Stream _body;

    /// <summary>A request over this process's environment, stdin, stdout and stderr.</summary>
    public CgiRequest()
        : this(ReadEnvironment(), Console.OpenStandardInput(), Console.OpenStandardOutput(), Console.OpenStandardError())
    {
    }

    /// <summary>A request over the given meta-variables and streams.</summary>
    /// <param name="environ">The CGI meta-variables.</param>
    /// <param name="stdin">The request body; at most <c>CONTENT_LENGTH</c> bytes of it are read (RFC 3875 section 4.2).</param>
    /// <param name="stdout">Where the response goes.</param>
    /// <param name="stderr">The error log.</param>
    public CgiRequest(IReadOnlyDictionary<string, string> environ, Stream stdin, Stream stdout, Stream stderr)
    {
        ArgumentNullException.ThrowIfNull(environ);
        ArgumentNullException.ThrowIfNull(stdin);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        Environ = environ;
        _stdout = new BufferedStream(stdout, 16 * 1024);
        _stderr = stderr;
        _body = environ.TryGetValue("CONTENT_LENGTH", out var length) && long.TryParse(length, out var bytes) && bytes >= 0
            ? new LengthLimitedStream(stdin, bytes)
            : stdin;
    }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, string> Environ { get; }

    /// <inheritdoc />
    public override Stream Body => _body;

    /// <summary>
    /// Runs one CGI request through a handler from <paramref name="handlerFactory"/> and returns the process exit
    /// code (0).
    /// </summary>
    public static int Run(Func<Handler> handlerFactory)
    {
        ArgumentNullException.ThrowIfNull(handlerFactory);
        using var request = new CgiRequest();
        request.ProcessAsync(handlerFactory()).AsTask().GetAwaiter().GetResult();
        return 0;
    }

    /// <summary>Runs <paramref name="handler"/> on this request and closes it (jonpy's <c>cgi.CGIRequest.process</c>).</summary>
    public ValueTask ProcessAsync(Handler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return HandlerRunner.RunAsync(handler, this);
    }

    /// <inheritdoc />
    protected override ValueTask TransportWriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        _stdout.WriteAsync(data, cancellationToken);

    /// <inheritdoc />
    protected override ValueTask TransportFlushAsync(CancellationToken cancellationToken) => new(_stdout.FlushAsync(cancellationToken));

    /// <inheritdoc />
    protected override ValueTask TransportCompleteAsync(CancellationToken cancellationToken) =>
        new(_stdout.FlushAsync(cancellationToken));

    /// <inheritdoc />
    protected override void TransportWriteError(string message)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(message);
        _stderr.Write(bytes);
        _stderr.Flush();
    }

    private static Dictionary<string, string> ReadEnvironment()
    {
        var environ = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            environ[(string)entry.Key] = (string?)entry.Value ?? "";
        }

        return environ;
    }
}

/// <summary>
/// A <see cref="CgiRequest"/> that compresses its body with gzip when the client accepts it (jonpy's
/// <c>GZipCGIRequest</c>): <see cref="Request.GZipLevel"/> starts at 6.
/// </summary>
public class GZipCgiRequest : CgiRequest
{
    /// <summary>A gzip request over this process's environment and standard streams.</summary>
    public GZipCgiRequest()
    {
        GZipLevel = 6;
    }

    /// <summary>A gzip request over the given meta-variables and streams.</summary>
    public GZipCgiRequest(IReadOnlyDictionary<string, string> environ, Stream stdin, Stream stdout, Stream stderr)
        : base(environ, stdin, stdout, stderr)
    {
        GZipLevel = 6;
    }
}
