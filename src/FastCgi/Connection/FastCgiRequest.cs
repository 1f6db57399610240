using System.Text;
using FastCgi.Connection;
using FastCgi.Protocol;

namespace FastCgi;

/// <summary>
/// A request served over FastCGI (jonpy's <c>fcgi.Request</c>): the same interface as every
/// <see cref="Request"/>, plus the FCGI_DATA stream of the Filter role. The body and data are streams the handler
/// reads while the web server is still sending them; the response goes out as FCGI_STDOUT records.
/// </summary>
public class FastCgiRequest : Request
{
    private readonly RequestContext _context;
    private readonly ConnectionOutput _output;
    private Stream? _body;
    private Stream? _data;
    private bool _stderrUsed;
    private bool _ended;

    internal FastCgiRequest(RequestContext context, ConnectionOutput output)
    {
        _context = context;
        _output = output;
        EnableAbortToken(context.AbortSource);
    }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, string> Environ => _context.Environ;

    /// <inheritdoc />
    public override Stream Body => _body ??= _context.Stdin.Reader.AsStream();

    /// <summary>The FCGI_DATA stream: the file a Filter works on (empty for other roles).</summary>
    public Stream Data => _data ??= _context.Data?.Reader.AsStream() ?? Stream.Null;

    /// <summary>The FastCGI role the web server asked for.</summary>
    public Role Role => _context.Role;

    /// <summary>The FastCGI request id on its connection.</summary>
    public int RequestId => _context.RequestId;

    /// <summary>The status sent in END_REQUEST's appStatus (like a CGI exit code). Default 0.</summary>
    public int AppStatus { get; set; }

    internal void AbortFromServer(AbortReason reason) => Abort(reason);

    /// <inheritdoc />
    protected override ValueTask TransportWriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        _output.WriteStreamAsync(RecordType.Stdout, _context.RequestId, data, cancellationToken);

    /// <inheritdoc />
    protected override ValueTask TransportFlushAsync(CancellationToken cancellationToken) => _output.FlushAsync(cancellationToken);

    /// <inheritdoc />
    protected override ValueTask TransportCompleteAsync(CancellationToken cancellationToken)
    {
        _ended = true;
        return _context.Connection.EndRequestAsync(_context, _stderrUsed, AppStatus);
    }

    /// <summary>Closes the connection without END_REQUEST: see <see cref="FastCgiConnection.FailRequestAsync"/>.</summary>
    protected override ValueTask TransportFailAsync(CancellationToken cancellationToken)
    {
        _ended = true;
        return _context.Connection.FailRequestAsync(_context);
    }

    /// <inheritdoc />
    protected override void TransportWriteError(string message)
    {
        if (_ended)
        {
            // Nothing of a request may follow its END_REQUEST (spec 5.5), and its id may already be another request's.
            _context.Connection.LogErrorAfterEnd(_context.RequestId, message);
            return;
        }

        _stderrUsed = true;
        _output.WriteStream(RecordType.Stderr, _context.RequestId, Encoding.UTF8.GetBytes(message));
        _output.Flush();
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _context.Stdin.Reader.Complete();
            _context.Data?.Reader.Complete();
            _context.ReleaseEnviron();
        }

        base.Dispose(disposing);
    }
}

/// <summary>
/// A <see cref="FastCgiRequest"/> that compresses its body with gzip when the client accepts it (jonpy's
/// <c>GZipRequest</c>): <see cref="Request.GZipLevel"/> starts at 6. Chosen with <see cref="FastCgiServerOptions.GZip"/>.
/// </summary>
public class GZipFastCgiRequest : FastCgiRequest
{
    internal GZipFastCgiRequest(RequestContext context, ConnectionOutput output)
        : base(context, output)
    {
        GZipLevel = 6;
    }
}
