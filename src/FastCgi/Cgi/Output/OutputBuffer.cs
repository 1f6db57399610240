using System.Buffers;

namespace FastCgi.Cgi.Output;

/// <summary>
/// The buffered part of a response body (jonpy's output buffer): pooled, seekable, overwritten from the write
/// position as a file is. A mutable struct held in one field, so it costs no object of its own.
/// </summary>
internal struct OutputBuffer
{
    private byte[] _array;

    public OutputBuffer()
    {
        _array = [];
    }

    /// <summary>Bytes held.</summary>
    public int Length { get; private set; }

    /// <summary>Where the next write goes, 0 to <see cref="Length"/>.</summary>
    public int Position { get; set; }

    /// <summary>The bytes held.</summary>
    public readonly ReadOnlyMemory<byte> Written => _array.AsMemory(0, Length);

    /// <summary>Writes <paramref name="data"/> at the position, growing the buffer as needed.</summary>
    public void Write(ReadOnlySpan<byte> data)
    {
        var end = Position + data.Length;
        if (end > _array.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(end, Math.Max(4096, _array.Length * 2)));
            _array.AsSpan(0, Length).CopyTo(bigger);
            ReturnArray();
            _array = bigger;
        }

        data.CopyTo(_array.AsSpan(Position));
        Position = end;
        Length = Math.Max(Length, end);
    }

    /// <summary>Forgets what is held; the array stays for the next writes.</summary>
    public void Clear()
    {
        Length = 0;
        Position = 0;
    }

    /// <summary>Forgets what is held and returns the array to the pool.</summary>
    public void Release()
    {
        Clear();
        ReturnArray();
    }

    private void ReturnArray()
    {
        if (_array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_array);
        }

        _array = [];
    }
}
