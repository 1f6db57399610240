using System.Buffers;
using System.Text;
using FastCgi.Cgi;

namespace FastCgi;

/// <summary>
/// A request served over FastCGI (jonpy's <c>fcgi.Request</c>): the same interface as every <see cref="Request"/>,
/// plus the FCGI_DATA stream of the Filter role, over the connection's low-level <see cref="FastCgiRequestContext"/>.
/// The body and data are streams the handler reads while the web server is still sending them; the response goes
/// out as FCGI_STDOUT records. Subclass it for your own helpers, and give the server a factory of your subclass
/// (<see cref="FastCgiServerOptions.RequestType"/>, jonpy's <c>request_type</c>).
/// </summary>
public class FastCgiRequest : Request, IAbortObserver
{
    private readonly FastCgiRequestContext _context;
    private Stream? _body;
    private Stream? _data;

    /// <summary>A request over <paramref name="context"/>, which it uses until the request is closed.</summary>
    public FastCgiRequest(FastCgiRequestContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _context = context;
        // The context's token, not a source and a registration of the request's own: the context tells this request
        // of an abort before the token fires, so its callbacks see Aborted set all the same.
        EnableAbortToken(context.Aborted);
        var reason = context.ObserveAbort(this);
        if (reason != AbortReason.None)
        {
            Abort(reason);
        }
    }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, string> Environ => _context.Params;

    /// <inheritdoc />
    public override Stream Body => _body ??= new BodyStream(_context.Body.AsStream(leaveOpen: true));

    /// <inheritdoc />
    public override Stream Data => _data ??= _context.Data.AsStream(leaveOpen: true);

    /// <summary>The FastCGI role the web server asked for.</summary>
    public Role Role => _context.Role;

    /// <summary>The FastCGI request id on its connection.</summary>
    public int RequestId => _context.RequestId;

    /// <summary>The status sent in END_REQUEST's appStatus (like a CGI exit code). Default 0.</summary>
    public int AppStatus { get; set; }

    /// <inheritdoc />
    protected override ValueTask TransportWriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        // Held until a flush or the end of the request, so that a buffered response leaves with its END_REQUEST.
        _context.Output.Write(data.Span);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    protected override async ValueTask TransportFlushAsync(CancellationToken cancellationToken) =>
        await _context.Output.FlushAsync(cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    protected override ValueTask TransportCompleteAsync(CancellationToken cancellationToken) => _context.CompleteAsync(AppStatus);

    /// <summary>Closes the connection without END_REQUEST: see <see cref="FastCgiRequestContext.FailAsync"/>.</summary>
    protected override ValueTask TransportFailAsync(CancellationToken cancellationToken) => _context.FailAsync();

    /// <summary>Writes to FCGI_STDERR; after the request ended, to the server's log instead (spec 5.5).</summary>
    protected override void TransportWriteError(string message)
    {
        _context.Error.Write(Encoding.UTF8.GetBytes(message));
        _context.Error.FlushAsync().AsTask().GetAwaiter().GetResult();
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _context.StopObservingAbort(this);
        }

        base.Dispose(disposing);
    }

    /// <summary>A lost connection found on write aborts the context, whose token this request hands out.</summary>
    private protected override void TransportAbort(AbortReason reason) => _context.Abort(reason);

    void IAbortObserver.OnAborting(AbortReason reason) => Abort(reason);

    /// <summary>The body, with the connection's body limit reported as jonpy's handler model does: a 413.</summary>
    private sealed class BodyStream(Stream inner) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            try
            {
                return inner.Read(buffer);
            }
            catch (RequestBodyTooLargeException exception)
            {
                throw Rejected(exception);
            }
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                return await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
            catch (RequestBodyTooLargeException exception)
            {
                throw Rejected(exception);
            }
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        private static RequestRejectedException Rejected(RequestBodyTooLargeException exception) =>
            new(413, exception.Message);
    }
}

/// <summary>
/// A <see cref="FastCgiRequest"/> that compresses its body with gzip when the client accepts it (jonpy's
/// <c>GZipRequest</c>): <see cref="Request.GZipLevel"/> starts at 6. Chosen with <see cref="RequestType.GZip"/>.
/// </summary>
public class GZipFastCgiRequest : FastCgiRequest
{
    /// <summary>A gzip request over <paramref name="context"/>.</summary>
    public GZipFastCgiRequest(FastCgiRequestContext context)
        : base(context)
    {
        GZipLevel = 6;
    }
}
