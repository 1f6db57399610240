using System.Buffers;
using FastCgi.Testing;

namespace FastCgi.Fuzz.Harnesses;

/// <summary>Helpers that turn fuzzer bytes into the shapes the code under test reads.</summary>
internal static class FuzzInput
{
    /// <summary>Splits at the first LF: the line (without a trailing CR) and the bytes after it.</summary>
    public static (byte[] Line, byte[] After) SplitFirstLine(byte[] input)
    {
        var newline = Array.IndexOf(input, (byte)'\n');
        if (newline < 0)
        {
            return (input, []);
        }

        var lineEnd = newline > 0 && input[newline - 1] == '\r' ? newline - 1 : newline;
        return (input[..lineEnd], input[(newline + 1)..]);
    }

    /// <summary><paramref name="data"/> cut at the ascending <paramref name="points"/> (empty segments included).</summary>
    public static ReadOnlySequence<byte> Segmented(byte[] data, IReadOnlyList<int> points)
    {
        if (points.Count == 0)
        {
            return new ReadOnlySequence<byte>(data);
        }

        var first = new TestSegment(data.AsMemory(0, points[0]));
        var last = first;
        for (var i = 0; i < points.Count; i++)
        {
            var end = i + 1 < points.Count ? points[i + 1] : data.Length;
            last = last.Append(data.AsMemory(points[i], end - points[i]));
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }
}
