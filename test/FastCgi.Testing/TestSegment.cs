using System.Buffers;

namespace FastCgi.Testing;

/// <summary>One segment of a multi-segment <see cref="ReadOnlySequence{T}"/>, to feed codecs data split where a socket might split it.</summary>
public sealed class TestSegment : ReadOnlySequenceSegment<byte>
{
    public TestSegment(ReadOnlyMemory<byte> memory)
    {
        Memory = memory;
    }

    public TestSegment Append(ReadOnlyMemory<byte> memory)
    {
        var next = new TestSegment(memory) { RunningIndex = RunningIndex + Memory.Length };
        Next = next;
        return next;
    }
}
