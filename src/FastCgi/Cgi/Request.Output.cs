using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using FastCgi.Cgi;
using FastCgi.Cgi.Output;

namespace FastCgi;

public abstract partial class Request : IResponseTarget
{
    private readonly ResponseWriter _response;
    private bool _buffering = true;
    private bool _closed;
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
            if (!HeadersSent)
            {
                _headers.ReplaceIf("Content-Type", DefaultContentTypeFor(_outputEncoding), DefaultContentTypeFor(value));
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
        get => _response.GZipLevel;
        set
        {
            CheckHeadersNotSent(nameof(GZipLevel));
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 9);
            _response.GZipLevel = value;
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
        if (!_buffering && Aborted != AbortReason.None)
        {
            return;
        }

        _response.Buffer.Write(data);
        if (!_buffering)
        {
            // The core takes memory, which a span cannot become: the buffer, empty while unbuffered, carries it.
            SyncOverAsync.Wait(SendBufferAndFlushAsync(CancellationToken.None));
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
            _response.Buffer.Write(data.Span);
            return;
        }

        if (Aborted != AbortReason.None)
        {
            return;
        }

        try
        {
            await _response.SendAsync(data, cancellationToken).ConfigureAwait(false);
            await _response.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException)
        {
            Abort(AbortReason.ConnectionLost);
        }
    }

    /// <summary>Sends the headers now (jonpy's <c>output_headers</c>).</summary>
    /// <exception cref="SequencingException">The headers were already sent.</exception>
    public void OutputHeaders() => SyncOverAsync.Wait(OutputHeadersAsync(nameof(OutputHeaders), CancellationToken.None));

    /// <summary>Sends the headers now.</summary>
    /// <exception cref="SequencingException">The headers were already sent.</exception>
    public ValueTask OutputHeadersAsync(CancellationToken cancellationToken = default) =>
        OutputHeadersAsync(nameof(OutputHeadersAsync), cancellationToken);

    /// <summary>
    /// Sends the headers (if not yet sent) and the buffered output, and pushes everything to the client
    /// (a gzip sync flush included).
    /// </summary>
    /// <exception cref="SequencingException">The request is closed.</exception>
    public void Flush() => SyncOverAsync.Wait(FlushAsync(nameof(Flush), CancellationToken.None));

    /// <summary>The asynchronous <see cref="Flush"/>.</summary>
    /// <exception cref="SequencingException">The request is closed.</exception>
    public ValueTask FlushAsync(CancellationToken cancellationToken = default) => FlushAsync(nameof(FlushAsync), cancellationToken);

    /// <summary>Discards the buffered output (jonpy's <c>clear_output</c>).</summary>
    /// <exception cref="SequencingException">Buffering is off or the request is closed.</exception>
    public void ClearOutput()
    {
        CheckBuffered(nameof(ClearOutput));
        _response.Buffer.Clear();
    }

    /// <summary>The position in the body output: bytes already sent plus the write position in the buffer.</summary>
    public long Tell() => _response.BodyBytesSent + _response.Buffer.Position;

    /// <summary>
    /// Moves the write position within what is still buffered; later writes overwrite from there, as in a file.
    /// </summary>
    /// <exception cref="SequencingException">Buffering is off or the request is closed.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The position is outside the buffered output.</exception>
    public void Seek(long position)
    {
        CheckBuffered(nameof(Seek));
        var sent = _response.BodyBytesSent;
        ArgumentOutOfRangeException.ThrowIfLessThan(position, sent);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(position, sent + _response.Buffer.Length);
        _response.Buffer.Position = (int)(position - sent);
    }

    /// <summary>
    /// Sends what remains and ends the response. Later writes are a <see cref="SequencingException"/>; a second
    /// call does nothing.
    /// </summary>
    public void Close() => SyncOverAsync.Wait(CloseAsync(CancellationToken.None));

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
                await _response.FinishAsync(cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await TransportCompleteAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (IOException)
        {
            Abort(AbortReason.ConnectionLost);
        }
    }

    /// <summary>
    /// Reports <paramref name="exception"/> (jonpy's <c>traceback</c>): its details go to the error log, and the
    /// client gets a short error page (500, or the status of a <see cref="RequestRejectedException"/>), replacing the
    /// headers and buffered output when they were not sent yet.
    /// </summary>
    /// <param name="exception">The exception.</param>
    /// <param name="showDetails">Show the exception to the client too (development only).</param>
    public void Traceback(Exception exception, bool showDetails = false)
    {
        ArgumentNullException.ThrowIfNull(exception);
        Error(ErrorPage.LogEntry(exception));
        if (_closed || HeadersSent || Aborted != AbortReason.None)
        {
            return;
        }

        // Bytes the handler left in the pipe belong to the failed response; completing the pipe with the error drops
        // them instead of letting Close append them to the error page.
        _bodyWriter?.Complete(exception);
        _bodyWriter = null;
        var status = ErrorPage.StatusFor(exception);
        _headers.Clear();
        _response.Buffer.Clear();
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

    /// <summary>Writes response bytes to the transport; it may hold them until <see cref="TransportFlushAsync"/>.</summary>
    /// <remarks>Completes when the transport can take more (backpressure). The synchronous API waits on it.</remarks>
    protected abstract ValueTask TransportWriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>Pushes what the transport holds to the client.</summary>
    protected abstract ValueTask TransportFlushAsync(CancellationToken cancellationToken);

    /// <summary>Ends the response: pushes what the transport holds and closes the output stream.</summary>
    protected abstract ValueTask TransportCompleteAsync(CancellationToken cancellationToken);

    /// <inheritdoc />
    ValueTask IResponseTarget.WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        TransportWriteAsync(data, cancellationToken);

    /// <inheritdoc />
    ValueTask IResponseTarget.FlushAsync(CancellationToken cancellationToken) => TransportFlushAsync(cancellationToken);

    /// <inheritdoc />
    ValueTask IResponseTarget.CompleteAsync(CancellationToken cancellationToken) => TransportCompleteAsync(cancellationToken);

    private async ValueTask OutputHeadersAsync(string operation, CancellationToken cancellationToken)
    {
        CheckHeadersNotSent(operation);
        if (FixHeadersIfAborted())
        {
            return;
        }

        try
        {
            await _response.SendAsync(ReadOnlyMemory<byte>.Empty, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException)
        {
            Abort(AbortReason.ConnectionLost);
        }
    }

    private async ValueTask FlushAsync(string operation, CancellationToken cancellationToken)
    {
        CheckNotClosed(operation);
        if (!FixHeadersIfAborted())
        {
            await SendBufferAndFlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Sends the head (if not sent) and the buffer, and pushes them to the client; a lost connection aborts.</summary>
    private async ValueTask SendBufferAndFlushAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _response.SendBufferAsync(cancellationToken).ConfigureAwait(false);
            await _response.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException)
        {
            Abort(AbortReason.ConnectionLost);
        }
    }

    /// <summary>An aborted response sends nothing more, so its headers are as good as sent.</summary>
    private bool FixHeadersIfAborted()
    {
        if (Aborted == AbortReason.None)
        {
            return false;
        }

        _response.FixHeaders();
        return true;
    }

    private void CheckNotClosed(string operation)
    {
        if (_closed)
        {
            throw new SequencingException($"{operation}: the request is closed.");
        }
    }

    private void CheckBuffered(string operation)
    {
        CheckNotClosed(operation);
        if (!_buffering)
        {
            throw new SequencingException($"{operation}: output is not buffered.");
        }
    }
}
