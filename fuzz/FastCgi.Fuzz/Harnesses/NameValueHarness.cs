using System.Buffers;
using FastCgi.Protocol;

namespace FastCgi.Fuzz.Harnesses;

/// <summary>
/// <see cref="NameValueReader.Parse"/> over arbitrary bytes. Every pair must lie inside the input, in order and back
/// to back after its length prefixes; the pairs must survive a round trip through <see cref="NameValueWriter"/>.
/// <see cref="ProtocolException"/> is allowed, for a truncated prefix or a length past the data only.
/// </summary>
internal static class NameValueHarness
{
    public static void Run(byte[] input)
    {
        var pairs = new List<(byte[] Name, byte[] Value)>();
        var checker = new Checker(input, pairs);
        try
        {
            NameValueReader.Parse(input, ref checker);
        }
        catch (ProtocolException e)
        {
            FuzzInvariantException.Check(
                e.Reason is ProtocolRejectionReason.NameValueTruncated or ProtocolRejectionReason.NameValueLengthPastContent,
                "Name-value data rejected for " + e.Reason);
            return;
        }

        var output = new ArrayBufferWriter<byte>();
        var expectedSize = 0L;
        foreach (var (name, value) in pairs)
        {
            NameValueWriter.Write(output, name, value);
            expectedSize += NameValueWriter.GetEncodedSize(name.Length, value.Length);
        }

        FuzzInvariantException.Check(output.WrittenCount == expectedSize, "GetEncodedSize disagrees with what Write wrote");
        FuzzInvariantException.Check(output.WrittenCount <= input.Length + (3L * 2 * pairs.Count), "Re-encoding grew more than the longer prefixes explain");
        var again = new List<(byte[] Name, byte[] Value)>();
        var written = output.WrittenSpan.ToArray();
        var recheck = new Checker(written, again);
        NameValueReader.Parse(written, ref recheck);
        FuzzInvariantException.Check(again.Count == pairs.Count, "The round trip changed the number of pairs");
        for (var i = 0; i < pairs.Count; i++)
        {
            FuzzInvariantException.Check(
                again[i].Name.AsSpan().SequenceEqual(pairs[i].Name) && again[i].Value.AsSpan().SequenceEqual(pairs[i].Value),
                "The round trip changed a pair");
        }
    }

    private ref struct Checker(ReadOnlySpan<byte> input, List<(byte[] Name, byte[] Value)> pairs) : INameValueHandler
    {
        private readonly ReadOnlySpan<byte> _input = input;
        private int _end;

        public void OnPair(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
        {
            var prefixes = NameValueWriter.GetLengthSize(name.Length) + NameValueWriter.GetLengthSize(value.Length);
            var nameStart = Locate(name, "name");
            var valueStart = Locate(value, "value");
            if (nameStart >= 0)
            {
                // Only a lower bound: a prefix may use the four-byte form for a short length, and the prefixes of
                // a pair whose name and value are both empty are invisible here.
                FuzzInvariantException.Check(nameStart >= _end + prefixes, "A name overlaps the data before its length prefixes");
                _end = nameStart + name.Length;
            }

            if (valueStart >= 0)
            {
                FuzzInvariantException.Check(nameStart < 0 ? valueStart >= _end + prefixes : valueStart == _end, "A value does not follow its name");
                _end = valueStart + value.Length;
            }

            pairs.Add((name.ToArray(), value.ToArray()));
        }

        private readonly int Locate(ReadOnlySpan<byte> span, string what)
        {
            if (span.IsEmpty)
            {
                return -1;
            }

            FuzzInvariantException.Check(_input.Overlaps(span, out var offset) && offset >= 0 && offset + span.Length <= _input.Length, "A " + what + " span lies outside the input");
            return offset;
        }
    }
}
