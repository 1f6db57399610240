using System.Buffers;

namespace FastCgi.Tests.Support;

/// <summary>One segment of a multi-segment <see cref="ReadOnlySequence{T}"/>, to feed codecs data split where a socket might split it.</summary>
internal sealed class TestSegment : ReadOnlySequenceSegment<byte>
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
