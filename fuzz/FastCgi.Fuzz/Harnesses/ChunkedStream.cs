namespace FastCgi.Fuzz.Harnesses;

/// <summary>
/// A read-only body that hands out its bytes in reads of varying size, as a socket would. The size of each read is
/// chosen by the byte it starts at: 1 to 64 bytes for most, everything left when the top bit is set, so the
/// fuzzer steers where reads split.
/// </summary>
internal sealed class ChunkedStream(byte[] data) : Stream
{
    private int _position;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(Span<byte> buffer)
    {
        var remaining = data.Length - _position;
        if (remaining == 0 || buffer.IsEmpty)
        {
            return 0;
        }

        var selector = data[_position];
        var size = (selector & 0x80) != 0 ? remaining : 1 + (selector & 0x3F);
        var count = Math.Min(Math.Min(size, remaining), buffer.Length);
        data.AsSpan(_position, count).CopyTo(buffer);
        _position += count;
        return count;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
