using System.Security.Cryptography;
using System.Text;

namespace FastCgi.Tests.Cgi;

/// <summary>
/// A multipart body with one file of <c>fileLength</c> pseudo-random bytes, generated as it is read, so a huge
/// upload never exists in memory. The file's SHA-256 is computed on the way.
/// </summary>
internal sealed class GeneratedUploadStream : Stream
{
    private readonly byte[] _head;
    private readonly byte[] _tail;
    private readonly long _fileLength;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long _position;
    private ulong _state = 0x9E3779B97F4A7C15;

    public GeneratedUploadStream(string boundary, string fieldName, string fileName, long fileLength)
    {
        _head = Encoding.ASCII.GetBytes($"--{boundary}\r\nContent-Disposition: form-data; name=\"{fieldName}\"; filename=\"{fileName}\"\r\nContent-Type: application/octet-stream\r\n\r\n");
        _tail = Encoding.ASCII.GetBytes($"\r\n--{boundary}--\r\n");
        _fileLength = fileLength;
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => _head.Length + _fileLength + _tail.Length;

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    /// <summary>The SHA-256 of the file bytes generated so far (all of them once the stream is read to the end).</summary>
    public byte[] FileHash() => _hash.GetCurrentHash();

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var fileEnd = _head.Length + _fileLength;
        if (_position < _head.Length)
        {
            return Copy(_head, _position, buffer);
        }

        if (_position >= fileEnd)
        {
            return Copy(_tail, _position - fileEnd, buffer);
        }

        var count = (int)Math.Min(buffer.Length, fileEnd - _position);
        var span = buffer[..count];
        for (var i = 0; i < span.Length; i++)
        {
            // xorshift64: cheap, deterministic, and never forms a boundary line by accident.
            _state ^= _state << 13;
            _state ^= _state >> 7;
            _state ^= _state << 17;
            span[i] = (byte)_state;
        }

        _hash.AppendData(span);
        _position += count;
        return count;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
        }

        base.Dispose(disposing);
    }

    private int Copy(byte[] source, long from, Span<byte> buffer)
    {
        var count = (int)Math.Min(buffer.Length, source.Length - from);
        source.AsSpan((int)from, count).CopyTo(buffer);
        _position += count;
        return count;
    }
}
