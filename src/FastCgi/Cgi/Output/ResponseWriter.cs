namespace FastCgi.Cgi.Output;

/// <summary>
/// The one asynchronous core of a response: the head (with the CGI rules applied), the body through the optional
/// gzip encoder, the buffered output, flushes and the end. It checks no sequencing and sees no abort: the request in
/// front of it does both, and offers the synchronous API as thin wrappers over these methods.
/// </summary>
internal sealed class ResponseWriter(IResponseTarget target, ResponseHeaderList headers) : IDisposable
{
    // Under FastCGI a transport write becomes one FCGI_STDOUT record (up to 64 KiB): the head and the start of the
    // body share it, because mod_authnz_fcgi keeps only the body bytes of the record in which the headers end.
    private const int MaxBodyWithHead = 32 * 1024;

    private OutputBuffer _buffer = new();
    private GZipBodyEncoder? _gzip;
    private bool _discardBody;

    /// <summary>The buffered output, not sent yet.</summary>
    public ref OutputBuffer Buffer => ref _buffer;

    /// <summary>Whether the head was sent; from then on the headers are fixed.</summary>
    public bool HeadersSent { get; private set; }

    /// <summary>Body bytes that left the buffer (or were written unbuffered), before any compression.</summary>
    public long BodyBytesSent { get; private set; }

    /// <summary>The gzip level, 0 (off) to 9; read when the head is sent.</summary>
    public int GZipLevel { get; set; }

    /// <summary>Fixes the headers without sending them: an aborted response sends nothing more.</summary>
    public void FixHeaders() => HeadersSent = true;

    /// <summary>Sends the head if not yet sent, then <paramref name="body"/>.</summary>
    public async ValueTask SendAsync(ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        var withHead = HeadersSent ? 0 : await SendHeadAsync(body, cancellationToken).ConfigureAwait(false);
        await WriteBodyAsync(body[withHead..], cancellationToken).ConfigureAwait(false);
        BodyBytesSent += body.Length;
    }

    /// <summary>Sends the head if not yet sent, then the buffered output, and empties the buffer.</summary>
    public async ValueTask SendBufferAsync(CancellationToken cancellationToken)
    {
        await SendAsync(_buffer.Written, cancellationToken).ConfigureAwait(false);
        _buffer.Clear();
    }

    /// <summary>Pushes everything sent so far to the client, a gzip sync flush included.</summary>
    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        if (_gzip is not null)
        {
            await _gzip.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        await target.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends the head and the buffered output, ends the gzip stream, and ends the response.</summary>
    public async ValueTask FinishAsync(CancellationToken cancellationToken)
    {
        await SendBufferAsync(cancellationToken).ConfigureAwait(false);
        if (_gzip is not null)
        {
            await _gzip.FinishAsync(cancellationToken).ConfigureAwait(false);
        }

        await target.CompleteAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Releases the buffer and the compressor; nothing more reaches the transport.</summary>
    public void Dispose()
    {
        _gzip?.Dispose();
        _gzip = null;
        _buffer.Release();
    }

    /// <summary>Sends the head with the start of <paramref name="body"/> in one write; returns how many body bytes went.</summary>
    private async ValueTask<int> SendHeadAsync(ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        _discardBody = CgiResponseRules.ApplyRedirect(headers, body.Length);
        if (GZipLevel > 0 && !_discardBody
            && GZipBodyEncoder.Negotiate(headers, target.GetEnvironment("HTTP_ACCEPT_ENCODING"), target.GetEnvironment("REQUEST_METHOD")))
        {
            _gzip = new GZipBodyEncoder(target, GZipLevel);
        }

        CgiResponseRules.PutStatusFirst(headers);
        HeadersSent = true;
        var block = HeaderBlock.Serialize(headers);
        try
        {
            // Only an uncompressed body can share the write: a compressed one starts when the encoder emits it.
            var withHead = _discardBody || _gzip is not null ? 0 : Math.Min(body.Length, MaxBodyWithHead);
            body.Span[..withHead].CopyTo(block.GetSpan(withHead));
            block.Advance(withHead);
            await target.WriteAsync(block.WrittenMemory, cancellationToken).ConfigureAwait(false);
            return withHead;
        }
        finally
        {
            block.Dispose();
        }
    }

    private ValueTask WriteBodyAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (_discardBody || data.IsEmpty)
        {
            return ValueTask.CompletedTask;
        }

        return _gzip is not null ? _gzip.WriteAsync(data, cancellationToken) : target.WriteAsync(data, cancellationToken);
    }
}
