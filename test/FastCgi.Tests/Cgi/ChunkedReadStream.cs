namespace FastCgi.Tests.Cgi;

/// <summary>
/// A read-only stream over bytes that returns at most <c>chunkSize(readIndex)</c> bytes per read, to exercise
/// parsers on data split at arbitrary points. Counts the bytes handed out.
/// </summary>
internal sealed class ChunkedReadStream(byte[] data, Func<int, int> chunkSize) : Stream
{
    private int _position;
    private int _reads;

    public ChunkedReadStream(byte[] data) : this(data, _ => int.MaxValue)
    {
    }

    public int BytesRead => _position;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => data.Length;

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var count = Math.Min(Math.Min(buffer.Length, data.Length - _position), Math.Max(1, chunkSize(_reads++)));
        data.AsSpan(_position, count).CopyTo(buffer);
        _position += count;
        return count;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
