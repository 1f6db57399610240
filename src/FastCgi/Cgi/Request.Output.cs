using System.Buffers;
using System.IO.Compression;
using System.IO.Pipelines;
using System.Text;
using FastCgi.Cgi.Output;

namespace FastCgi;

public abstract partial class Request
{
    // zlib writes nothing at all for an empty input, but a body labelled gzip must still be a gzip stream: this is
    // the empty one (RFC 1952 header with OS "unknown", an empty final deflate block, CRC-32 0, size 0).
    private static readonly byte[] EmptyGZipMember = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0];

    // Under FastCGI a transport write becomes one FCGI_STDOUT record (up to 64 KiB): the head and the start of the
    // body share it, because mod_authnz_fcgi keeps only the body bytes of the record in which the headers end.
    private const int MaxBodyWithHead = 32 * 1024;

    private byte[] _buffer = [];
    private int _bufferLength;
    private int _position;
    private long _sentBodyBytes;
    private bool _buffering = true;
    private bool _closed;
    private bool _discardBody;
    private int _gzipLevel;
    private GZipStream? _gzip;
    private bool _gzipHasInput;
    private bool _outputReleased;
    private Encoding _outputEncoding = Encoding.UTF8;
    private RequestOutputStream? _outputStream;
    private PipeWriter? _bodyWriter;

    /// <summary>
    /// Whether body output is buffered (the default). Turning buffering off first flushes what is buffered; from then
    /// on every write is sent at once.
    /// </summary>
    /// <exception cref="SequencingException">Set after <see cref="Close"/>.</exception>
    public bool Buffering
    {
        get => _buffering;
        set
        {
            CheckNotClosed("Buffering");
            if (_buffering && !value)
            {
                Flush();
            }

            _buffering = value;
        }
    }

    /// <summary>
    /// The encoding <see cref="Write(string)"/> uses (jonpy's <c>set_encoding</c>). Default UTF-8. While the headers
    /// are not sent, the default <c>Content-Type</c> follows it: <c>text/html; charset=iso-8859-1</c> for Latin-1.
    /// </summary>
    public Encoding OutputEncoding
    {
        get => _outputEncoding;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            var index = IndexOf("Content-Type");
            if (!HeadersSent && index >= 0 && _headers[index].Value == DefaultContentTypeFor(_outputEncoding))
            {
                _headers[index] = new(_headers[index].Key, DefaultContentTypeFor(value));
            }

            _outputEncoding = value;
        }
    }

    /// <summary>
    /// The gzip level, 0 (off) to 9. At 1 or more, the body is compressed when the client's <c>Accept-Encoding</c>
    /// allows gzip, <c>Content-Encoding: gzip</c> is added, <c>Content-Length</c> is removed, and
    /// <c>Vary: Accept-Encoding</c> is always added. Default 0, or 6 for the gzip request types.
    /// </summary>
    /// <exception cref="SequencingException">Set after the headers were sent.</exception>
    public int GZipLevel
    {
        get => _gzipLevel;
        set
        {
            CheckHeadersNotSent(nameof(GZipLevel));
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 9);
            _gzipLevel = value;
        }
    }

    /// <summary>Whether <see cref="Close"/> was called.</summary>
    public bool IsClosed => _closed;

    /// <summary>A write-only <see cref="Stream"/> over the body output, for code that wants one.</summary>
    public Stream OutputStream => _outputStream ??= new RequestOutputStream(this);

    /// <summary>A <see cref="PipeWriter"/> over the body output; what it holds is flushed by <see cref="Close"/>.</summary>
    public PipeWriter BodyWriter => _bodyWriter ??= PipeWriter.Create(OutputStream, new StreamPipeWriterOptions(leaveOpen: true));

    /// <summary>Writes text, encoded with <see cref="OutputEncoding"/>.</summary>
    /// <exception cref="SequencingException">The request is closed.</exception>
    public void Write(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var max = _outputEncoding.GetMaxByteCount(text.Length);
        if (max <= 1024)
        {
            Span<byte> small = stackalloc byte[max];
            Write(small[.._outputEncoding.GetBytes(text, small)]);
            return;
        }

        var rented = ArrayPool<byte>.Shared.Rent(max);
        try
        {
            Write(rented.AsSpan(0, _outputEncoding.GetBytes(text, rented)));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Writes bytes.</summary>
    /// <exception cref="SequencingException">The request is closed.</exception>
    public void Write(ReadOnlySpan<byte> data)
    {
        CheckNotClosed(nameof(Write));
        if (_buffering)
        {
            AppendToBuffer(data);
            return;
        }

        if (Aborted != AbortReason.None)
        {
            return;
        }

        try
        {
            if (!HeadersSent)
            {
                var withHead = SendHeaders(data);
                _sentBodyBytes += withHead;
                data = data[withHead..];
            }

            WriteBody(data);
            FlushBody();
        }
        catch (IOException)
        {
            Abort(AbortReason.ConnectionLost);
        }
    }

    /// <summary>Writes text, encoded with <see cref="OutputEncoding"/>.</summary>
    /// <exception cref="SequencingException">The request is closed.</exception>
    public ValueTask WriteAsync(string text, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (_buffering)
        {
            Write(text);
            return ValueTask.CompletedTask;
        }

        return WriteAsync(_outputEncoding.GetBytes(text), cancellationToken);
    }

    /// <summary>Writes bytes; with buffering off, completes when the transport took them (backpressure).</summary>
    /// <exception cref="SequencingException">The request is closed.</exception>
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        CheckNotClosed(nameof(WriteAsync));
        if (_buffering)
        {
            AppendToBuffer(data.Span);
            return;
        }

        if (Aborted != AbortReason.None)
        {
            return;
        }

        try
        {
            if (!HeadersSent)
            {
                var withHead = await SendHeadersAsync(data, cancellationToken).ConfigureAwait(false);
                _sentBodyBytes += withHead;
                data = data[withHead..];
            }

            await WriteBodyAsync(data, cancellationToken).ConfigureAwait(false);
            await FlushBodyAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException)
        {
            Abort(AbortReason.ConnectionLost);
        }
    }

    /// <summary>Sends the headers now (the seed's <c>output_headers</c>).</summary>
    /// <exception cref="SequencingException">The headers were already sent.</exception>
    public void OutputHeaders()
    {
        CheckHeadersNotSent(nameof(OutputHeaders));
        Guard(() => SendHeaders([]));
    }

    /// <summary>Sends the headers now.</summary>
    /// <exception cref="SequencingException">The headers were already sent.</exception>
    public ValueTask OutputHeadersAsync(CancellationToken cancellationToken = default)
    {
        CheckHeadersNotSent(nameof(OutputHeadersAsync));
        return GuardAsync(async ct => await SendHeadersAsync(ReadOnlyMemory<byte>.Empty, ct).ConfigureAwait(false), cancellationToken);
    }

    /// <summary>
    /// Sends the headers (if not yet sent) and the buffered output, and pushes everything to the client
    /// (a gzip sync flush included).
    /// </summary>
    /// <exception cref="SequencingException">The request is closed.</exception>
    public void Flush()
    {
        CheckNotClosed(nameof(Flush));
        Guard(() =>
        {
            SendHeadersAndBuffer();
            FlushBody();
        });
    }

    /// <summary>The asynchronous <see cref="Flush"/>.</summary>
    /// <exception cref="SequencingException">The request is closed.</exception>
    public ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        CheckNotClosed(nameof(FlushAsync));
        return GuardAsync(async ct =>
        {
            await SendHeadersAndBufferAsync(ct).ConfigureAwait(false);
            await FlushBodyAsync(ct).ConfigureAwait(false);
        }, cancellationToken);
    }

    /// <summary>Discards the buffered output (the seed's <c>clear_output</c>).</summary>
    /// <exception cref="SequencingException">Buffering is off or the request is closed.</exception>
    public void ClearOutput()
    {
        CheckNotClosed(nameof(ClearOutput));
        if (!_buffering)
        {
            throw new SequencingException("ClearOutput: output is not buffered.");
        }

        _bufferLength = 0;
        _position = 0;
    }

    /// <summary>The position in the body output: bytes already sent plus the write position in the buffer.</summary>
    public long Tell() => _sentBodyBytes + _position;

    /// <summary>
    /// Moves the write position within what is still buffered; later writes overwrite from there, as in a file.
    /// </summary>
    /// <exception cref="SequencingException">Buffering is off or the request is closed.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The position is outside the buffered output.</exception>
    public void Seek(long position)
    {
        CheckNotClosed(nameof(Seek));
        if (!_buffering)
        {
            throw new SequencingException("Seek: output is not buffered.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(position, _sentBodyBytes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(position, _sentBodyBytes + _bufferLength);
        _position = (int)(position - _sentBodyBytes);
    }

    /// <summary>
    /// Sends what remains and ends the response. Later writes are a <see cref="SequencingException"/>; a second
    /// call does nothing.
    /// </summary>
    public void Close()
    {
        if (_closed)
        {
            return;
        }

        if (_bodyWriter is not null)
        {
            _bodyWriter.FlushAsync().AsTask().GetAwaiter().GetResult();
        }

        _closed = true;
        if (Aborted != AbortReason.None)
        {
            SafeComplete(() => TransportComplete());
            return;
        }

        SafeComplete(() =>
        {
            SendHeadersAndBuffer();
            FinishGZip();
            TransportComplete();
        });
    }

    /// <summary>The asynchronous <see cref="Close"/>.</summary>
    public async ValueTask CloseAsync(CancellationToken cancellationToken = default)
    {
        if (_closed)
        {
            return;
        }

        if (_bodyWriter is not null)
        {
            await _bodyWriter.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        _closed = true;
        try
        {
            if (Aborted == AbortReason.None)
            {
                await SendHeadersAndBufferAsync(cancellationToken).ConfigureAwait(false);
                await FinishGZipAsync(cancellationToken).ConfigureAwait(false);
            }

            await TransportCompleteAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException)
        {
            Abort(AbortReason.ConnectionLost);
        }
    }

    /// <summary>
    /// Reports <paramref name="exception"/> (the seed's <c>traceback</c>): its details go to the error log, and the
    /// client gets a short error page (500, or the status of a <see cref="RequestRejectedException"/>), replacing the
    /// headers and buffered output when they were not sent yet.
    /// </summary>
    /// <param name="exception">The exception.</param>
    /// <param name="showDetails">Show the exception to the client too (development only).</param>
    public void Traceback(Exception exception, bool showDetails = false)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var rejected = exception as RequestRejectedException;
        Error(rejected is null ? exception.ToString() : $"Request rejected ({rejected.StatusCode}): {rejected.Message}");
        if (_closed || HeadersSent || Aborted != AbortReason.None)
        {
            return;
        }

        // Bytes the handler left in the pipe belong to the failed response; completing the pipe with the error drops
        // them instead of letting Close append them to the error page.
        _bodyWriter?.Complete(exception);
        _bodyWriter = null;
        var status = rejected?.StatusCode ?? 500;
        _headers.Clear();
        _bufferLength = 0;
        _position = 0;
        SetStatus(status);
        SetHeader("Content-Type", DefaultContentTypeFor(_outputEncoding));
        Write(ErrorPage.Render(status, ReasonPhrases.For(status), showDetails ? exception.ToString() : null));
    }

    /// <summary>
    /// Ends a response that failed after part of it was sent, so that the web server sees it incomplete rather than
    /// complete. By default the same as <see cref="TransportCompleteAsync"/>: a CGI response has no other end than
    /// the process's.
    /// </summary>
    protected virtual ValueTask TransportFailAsync(CancellationToken cancellationToken) => TransportCompleteAsync(cancellationToken);

    /// <summary>
    /// Ends the response as failed (<see cref="TransportFailAsync"/>) after the handler threw once part of it was
    /// sent; later writes are a <see cref="SequencingException"/>, as after <see cref="Close"/>.
    /// </summary>
    internal async ValueTask FailAsync()
    {
        if (_closed)
        {
            return;
        }

        _closed = true;
        try
        {
            await TransportFailAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (IOException)
        {
            Abort(AbortReason.ConnectionLost);
        }
    }

    /// <summary>Writes body bytes to the transport; it may hold them until <see cref="TransportFlush"/>.</summary>
    protected abstract void TransportWrite(ReadOnlySpan<byte> data);

    /// <summary>Writes body bytes to the transport; completes when the transport can take more.</summary>
    protected abstract ValueTask TransportWriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>Pushes what the transport holds to the client.</summary>
    protected abstract void TransportFlush();

    /// <summary>Pushes what the transport holds to the client.</summary>
    protected abstract ValueTask TransportFlushAsync(CancellationToken cancellationToken);

    /// <summary>Ends the response: pushes what the transport holds and closes the output stream.</summary>
    protected abstract void TransportComplete();

    /// <summary>Ends the response: pushes what the transport holds and closes the output stream.</summary>
    protected abstract ValueTask TransportCompleteAsync(CancellationToken cancellationToken);

    private void AppendToBuffer(ReadOnlySpan<byte> data)
    {
        var end = _position + data.Length;
        if (end > _buffer.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(end, Math.Max(4096, _buffer.Length * 2)));
            _buffer.AsSpan(0, _bufferLength).CopyTo(bigger);
            ReturnBuffer();
            _buffer = bigger;
        }

        data.CopyTo(_buffer.AsSpan(_position));
        _position = end;
        _bufferLength = Math.Max(_bufferLength, end);
    }

    private void SendHeadersAndBuffer()
    {
        var withHead = HeadersSent ? 0 : SendHeaders(_buffer.AsSpan(0, _bufferLength));
        if (_bufferLength > 0)
        {
            WriteBody(_buffer.AsSpan(withHead, _bufferLength - withHead));
            _sentBodyBytes += _bufferLength;
            _bufferLength = 0;
            _position = 0;
        }
    }

    private async ValueTask SendHeadersAndBufferAsync(CancellationToken cancellationToken)
    {
        var withHead = HeadersSent ? 0 : await SendHeadersAsync(_buffer.AsMemory(0, _bufferLength), cancellationToken).ConfigureAwait(false);
        if (_bufferLength > 0)
        {
            await WriteBodyAsync(_buffer.AsMemory(withHead, _bufferLength - withHead), cancellationToken).ConfigureAwait(false);
            _sentBodyBytes += _bufferLength;
            _bufferLength = 0;
            _position = 0;
        }
    }

    /// <summary>Sends the head with the start of <paramref name="body"/> in one write; returns how many body bytes went.</summary>
    private int SendHeaders(ReadOnlySpan<byte> body)
    {
        var block = PrepareHeaders(body.Length);
        try
        {
            var withHead = AppendBodyToHead(ref block, body);
            TransportWrite(block.WrittenSpan);
            return withHead;
        }
        finally
        {
            block.Dispose();
        }
    }

    private async ValueTask<int> SendHeadersAsync(ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        var block = PrepareHeaders(body.Length);
        try
        {
            var withHead = AppendBodyToHead(ref block, body.Span);
            await TransportWriteAsync(block.WrittenMemory, cancellationToken).ConfigureAwait(false);
            return withHead;
        }
        finally
        {
            block.Dispose();
        }
    }

    /// <summary>Copies up to <see cref="MaxBodyWithHead"/> bytes of an uncompressed body after the head.</summary>
    private int AppendBodyToHead(ref PooledBufferWriter block, ReadOnlySpan<byte> body)
    {
        var count = _discardBody || _gzip is not null ? 0 : Math.Min(body.Length, MaxBodyWithHead);
        if (count > 0)
        {
            body[..count].CopyTo(block.GetSpan(count));
            block.Advance(count);
        }

        return count;
    }

    /// <summary>
    /// Applies the CGI response rules and gzip negotiation, marks the headers sent, and serialises them, Status
    /// first: lighttpd reads an authorizer's headers that come before its Status as those of a grant, and drops them.
    /// </summary>
    /// <param name="bodyLength">The body bytes known so far (0 when the headers go out first).</param>
    private PooledBufferWriter PrepareHeaders(int bodyLength)
    {
        var location = GetHeader("Location");
        if (location is not null && IsLocalRedirect(location, bodyLength))
        {
            // RFC 3875 section 6.2.2: a local redirect response is the Location field alone, with no body.
            _headers.RemoveAll(h => !IsName(h, "Location"));
            _discardBody = true;
        }
        else if (location is not null && GetHeader("Status") is null)
        {
            // RFC 3875 sections 6.2.3 and 6.2.4: a client redirect; 302 Found unless the application set a status.
            _headers.Insert(0, new("Status", "302 Found"));
        }

        if (_gzipLevel > 0 && !_discardBody)
        {
            NegotiateGZip();
        }

        var status = IndexOf("Status");
        if (status > 0)
        {
            var header = _headers[status];
            _headers.RemoveAt(status);
            _headers.Insert(0, header);
        }

        HeadersSent = true;
        return HeaderBlock.Serialize(_headers);
    }

    /// <summary>
    /// Whether the response is a local redirect (RFC 3875 section 6.2.2): a Location path and nothing else. A Status,
    /// a header other than Location and Content-Type (which labels no body), or a body make it a client redirect,
    /// passed on as written.
    /// </summary>
    private bool IsLocalRedirect(string location, int bodyLength)
    {
        if (bodyLength > 0 || !location.StartsWith('/') || location.StartsWith("//", StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var header in _headers)
        {
            if (!IsName(header, "Location") && !IsName(header, "Content-Type"))
            {
                return false;
            }
        }

        return true;
    }

    private void NegotiateGZip()
    {
        AppendHeaderValue("Vary", "Accept-Encoding");
        var status = StatusCode;
        if (!AcceptEncoding.AllowsGZip(GetEnvironment("HTTP_ACCEPT_ENCODING"))
            || GetHeader("Content-Encoding") is not null
            || status is 204 or 304 || status < 200
            || string.Equals(GetEnvironment("REQUEST_METHOD"), "HEAD", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        SetHeader("Content-Encoding", "gzip");
        DeleteHeader("Content-Length");
        _gzip = new GZipStream(new TransportStream(this), new ZLibCompressionOptions { CompressionLevel = _gzipLevel }, leaveOpen: true);
    }

    private void WriteBody(ReadOnlySpan<byte> data)
    {
        if (_discardBody || data.IsEmpty)
        {
            return;
        }

        if (_gzip is not null)
        {
            _gzip.Write(data);
            _gzipHasInput = true;
        }
        else
        {
            TransportWrite(data);
        }

        if (!_buffering)
        {
            _sentBodyBytes += data.Length;
        }
    }

    private async ValueTask WriteBodyAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (_discardBody || data.IsEmpty)
        {
            return;
        }

        if (_gzip is not null)
        {
            await _gzip.WriteAsync(data, cancellationToken).ConfigureAwait(false);
            _gzipHasInput = true;
        }
        else
        {
            await TransportWriteAsync(data, cancellationToken).ConfigureAwait(false);
        }

        if (!_buffering)
        {
            _sentBodyBytes += data.Length;
        }
    }

    /// <summary>Ends the gzip stream: its final block and trailer, or the empty member when there was no body.</summary>
    private void FinishGZip()
    {
        if (_gzip is null)
        {
            return;
        }

        if (!_gzipHasInput)
        {
            TransportWrite(EmptyGZipMember);
        }

        _gzip.Dispose();
    }

    private async ValueTask FinishGZipAsync(CancellationToken cancellationToken)
    {
        if (_gzip is null)
        {
            return;
        }

        if (!_gzipHasInput)
        {
            await TransportWriteAsync(EmptyGZipMember, cancellationToken).ConfigureAwait(false);
        }

        await _gzip.DisposeAsync().ConfigureAwait(false);
    }

    private void FlushBody()
    {
        _gzip?.Flush();
        TransportFlush();
    }

    private async ValueTask FlushBodyAsync(CancellationToken cancellationToken)
    {
        if (_gzip is not null)
        {
            await _gzip.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        await TransportFlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private void Guard(Action action)
    {
        if (Aborted != AbortReason.None)
        {
            HeadersSent = true;
            return;
        }

        try
        {
            action();
        }
        catch (IOException)
        {
            Abort(AbortReason.ConnectionLost);
        }
    }

    private async ValueTask GuardAsync(Func<CancellationToken, ValueTask> action, CancellationToken cancellationToken)
    {
        if (Aborted != AbortReason.None)
        {
            HeadersSent = true;
            return;
        }

        try
        {
            await action(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException)
        {
            Abort(AbortReason.ConnectionLost);
        }
    }

    private void SafeComplete(Action action)
    {
        try
        {
            action();
        }
        catch (IOException)
        {
            Abort(AbortReason.ConnectionLost);
        }
    }

    private void CheckNotClosed(string operation)
    {
        if (_closed)
        {
            throw new SequencingException($"{operation}: the request is closed.");
        }
    }

    private void ReturnBuffer()
    {
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
        }

        _buffer = [];
    }

    private void ReleaseOutput()
    {
        // Disposing the compressor writes its final block. After Close it already has; otherwise the response was
        // abandoned (aborted, or never closed), and nothing more may reach the transport.
        _outputReleased = true;
        _gzip?.Dispose();
        _gzip = null;
        ReturnBuffer();
    }

    /// <summary>Lets the gzip encoder write into the transport.</summary>
    private sealed class TransportStream(Request request) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
            // The request flushes the transport itself after the compressor's sync flush.
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (!request._outputReleased)
            {
                request.TransportWrite(buffer);
            }
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            request._outputReleased ? ValueTask.CompletedTask : request.TransportWriteAsync(buffer, cancellationToken);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }
}
