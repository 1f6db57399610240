using System.Buffers;

namespace FastCgi.Testing;

/// <summary>Builds <see cref="ReadOnlySequence{T}"/>s of several segments.</summary>
public static class Sequences
{
    /// <summary>One segment per array, empty arrays included (a sequence may hold empty segments).</summary>
    public static ReadOnlySequence<byte> FromSegments(params byte[][] segments)
    {
        if (segments.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var first = new TestSegment(segments[0]);
        var last = first;
        foreach (var segment in segments.Skip(1))
        {
            last = last.Append(segment);
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary><paramref name="data"/> cut at each of the ascending <paramref name="splitPoints"/>.</summary>
    public static ReadOnlySequence<byte> Split(byte[] data, params int[] splitPoints)
    {
        var segments = new List<byte[]>();
        var start = 0;
        foreach (var point in splitPoints)
        {
            segments.Add(data[start..point]);
            start = point;
        }

        segments.Add(data[start..]);
        return FromSegments([.. segments]);
    }

    /// <summary><paramref name="data"/> cut into segments of <paramref name="segmentSize"/> bytes (the last may be shorter).</summary>
    public static ReadOnlySequence<byte> Segmented(byte[] data, int segmentSize) =>
        FromSegments([.. data.Chunk(segmentSize)]);

    /// <summary>Every byte of <paramref name="data"/> in a segment of its own.</summary>
    public static ReadOnlySequence<byte> OneBytePerSegment(byte[] data)
    {
        return FromSegments([.. data.Select(b => new[] { b })]);
    }
}
