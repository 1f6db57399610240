namespace FastCgi;

/// <summary>The <see cref="Request.OutputStream"/> view: writes and flushes go to the request.</summary>
internal sealed class RequestOutputStream(Request request) : Stream
{
    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => request.Tell();
        set => throw new NotSupportedException();
    }

    public override void Flush() => request.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => request.FlushAsync(cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => request.Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer) => request.Write(buffer);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        request.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        request.WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
}
