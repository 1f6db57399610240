using System.Buffers;

namespace FastCgi.Tests.Support;

/// <summary>
/// An <see cref="IBufferWriter{T}"/> that returns spans of at most <c>maxSpanLength</c> bytes whatever the size hint,
/// and fills them with garbage first, so a writer that relies on the hint or on zeroed memory is caught.
/// </summary>
internal sealed class TestBufferWriter : IBufferWriter<byte>
{
    private const byte Garbage = 0xCC;

    private readonly int _maxSpanLength;
    private readonly List<byte> _written = [];
    private byte[] _current = [];

    public TestBufferWriter(int maxSpanLength = int.MaxValue)
    {
        _maxSpanLength = maxSpanLength;
    }

    public byte[] WrittenBytes => [.. _written];

    public void Advance(int count)
    {
        if (count < 0 || count > _current.Length)
        {
            throw new InvalidOperationException($"Advance({count}) past the {_current.Length}-byte span.");
        }

        _written.AddRange(_current.AsSpan(0, count));
        _current = [];
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        var length = Math.Min(Math.Max(sizeHint, 16), _maxSpanLength);
        _current = new byte[length];
        _current.AsSpan().Fill(Garbage);
        return _current;
    }

    public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;
}
