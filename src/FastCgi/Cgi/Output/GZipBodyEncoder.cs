using System.IO.Compression;

namespace FastCgi.Cgi.Output;

/// <summary>Compresses a response body with gzip (RFC 1952) on its way to the transport.</summary>
internal sealed class GZipBodyEncoder : IDisposable
{
    // zlib writes nothing at all for an empty input, but a body labelled gzip must still be a gzip stream: this is
    // the empty one (RFC 1952 header with OS "unknown", an empty final deflate block, CRC-32 0, size 0).
    private static readonly byte[] EmptyMember = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0];

    private readonly IResponseTarget _target;
    private readonly TargetStream _sink;
    private readonly GZipStream _gzip;
    private bool _hasInput;

    public GZipBodyEncoder(IResponseTarget target, int level)
    {
        _target = target;
        _sink = new TargetStream(target);
        _gzip = new GZipStream(_sink, new ZLibCompressionOptions { CompressionLevel = level }, leaveOpen: true);
    }

    /// <summary>
    /// Negotiates gzip for a response about to be sent: <c>Vary: Accept-Encoding</c> always (the answer depends on
    /// it, RFC 9110 section 12.5.5), and when the client accepts gzip and the response has a body that is not
    /// already encoded, <c>Content-Encoding: gzip</c> without <c>Content-Length</c>. Returns whether to compress.
    /// </summary>
    public static bool Negotiate(ResponseHeaderList headers, string? acceptEncoding, string? method)
    {
        headers.AppendValue("Vary", "Accept-Encoding");
        var status = headers.StatusCode;
        if (!AcceptEncoding.AllowsGZip(acceptEncoding)
            || headers.Get("Content-Encoding") is not null
            || status is 204 or 304 || status < 200
            || string.Equals(method, "HEAD", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        headers.Set("Content-Encoding", "gzip");
        headers.Remove("Content-Length");
        return true;
    }

    /// <summary>Compresses <paramref name="data"/>; the compressor may hold some of it until a flush.</summary>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        _hasInput = true;
        return _gzip.WriteAsync(data, cancellationToken);
    }

    /// <summary>A sync flush: what was written so far decompresses at the client.</summary>
    public ValueTask FlushAsync(CancellationToken cancellationToken) => new(_gzip.FlushAsync(cancellationToken));

    /// <summary>Ends the gzip stream: its final block and trailer, or the empty member when there was no body.</summary>
    public async ValueTask FinishAsync(CancellationToken cancellationToken)
    {
        if (!_hasInput)
        {
            await _target.WriteAsync(EmptyMember, cancellationToken).ConfigureAwait(false);
        }

        await _gzip.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Releases the compressor. After <see cref="FinishAsync"/> it has written everything; otherwise the response was
    /// abandoned (aborted, or never closed), and the final block it writes now must not reach the transport.
    /// </summary>
    public void Dispose()
    {
        _sink.Detach();
        _gzip.Dispose();
    }

    /// <summary>Lets the compressor write into the target.</summary>
    private sealed class TargetStream(IResponseTarget target) : Stream
    {
        private bool _detached;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public void Detach() => _detached = true;

        public override void Flush()
        {
            // The response flushes the transport itself after the compressor's sync flush.
        }

        // Overridden because the base class would run Flush on the thread pool.
        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        // Only the synchronous Dispose of an abandoned compressor writes this way, after Detach: dropped.
        public override void Write(ReadOnlySpan<byte> buffer)
        {
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            _detached ? ValueTask.CompletedTask : target.WriteAsync(buffer, cancellationToken);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }
}
