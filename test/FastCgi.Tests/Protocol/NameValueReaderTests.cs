using System.Buffers;
using System.Text;
using FastCgi.Protocol;
using Xunit;

namespace FastCgi.Tests.Protocol;

public class NameValueReaderTests
{
    [Theory]
    [InlineData(new byte[] { }, false, 0, 0)]
    [InlineData(new byte[] { 0x00 }, true, 0, 1)]
    [InlineData(new byte[] { 0x7F }, true, 127, 1)]
    [InlineData(new byte[] { 0x7F, 0xFF }, true, 127, 1)]
    [InlineData(new byte[] { 0x80 }, false, 0, 0)]
    [InlineData(new byte[] { 0x80, 0x00, 0x00 }, false, 0, 0)]
    [InlineData(new byte[] { 0x80, 0x00, 0x00, 0x80 }, true, 128, 4)]
    [InlineData(new byte[] { 0x80, 0x00, 0x00, 0x05 }, true, 5, 4)]
    [InlineData(new byte[] { 0x80, 0x00, 0xFF, 0xFF, 0x12 }, true, 65535, 4)]
    [InlineData(new byte[] { 0x80, 0x10, 0x00, 0x00 }, true, 1048576, 4)]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF }, true, int.MaxValue, 4)]
    public void TryReadLength_decodes_both_forms(byte[] data, bool expected, int length, int bytesUsed)
    {
        Assert.Equal(expected, NameValueReader.TryReadLength(data, out var actualLength, out var actualBytesUsed));
        Assert.Equal(length, actualLength);
        Assert.Equal(bytesUsed, actualBytesUsed);
    }

    [Fact]
    public void Parse_of_nothing_calls_nothing()
    {
        var collector = new PairCollector();

        NameValueReader.Parse([], ref collector);

        Assert.Empty(collector.Pairs);
    }

    [Theory]
    [InlineData(new byte[] { 0x01, 0x02, (byte)'A', (byte)'b', (byte)'c' }, "A", "bc")]
    [InlineData(new byte[] { 0x00, 0x00 }, "", "")]
    [InlineData(new byte[] { 0x01, 0x00, (byte)'A' }, "A", "")]
    [InlineData(new byte[] { 0x00, 0x01, (byte)'v' }, "", "v")]
    [InlineData(new byte[] { 0x80, 0x00, 0x00, 0x01, 0x80, 0x00, 0x00, 0x00, (byte)'A' }, "A", "")]
    public void Parse_decodes_one_pair(byte[] data, string name, string value)
    {
        var collector = new PairCollector();

        NameValueReader.Parse(data, ref collector);

        var pair = Assert.Single(collector.Pairs);
        Assert.Equal(name, Encoding.UTF8.GetString(pair.Name));
        Assert.Equal(value, Encoding.UTF8.GetString(pair.Value));
    }

    [Fact]
    public void Parse_decodes_pairs_in_order()
    {
        byte[] data =
        [
            0x0B, 0x03, .. "SERVER_PORT"u8, .. "443"u8,
            0x0E, 0x04, .. "REQUEST_METHOD"u8, .. "POST"u8,
            0x0C, 0x00, .. "QUERY_STRING"u8,
        ];
        var collector = new PairCollector();

        NameValueReader.Parse(data, ref collector);

        Assert.Equal(
            [("SERVER_PORT", "443"), ("REQUEST_METHOD", "POST"), ("QUERY_STRING", "")],
            collector.Pairs.Select(p => (Encoding.UTF8.GetString(p.Name), Encoding.UTF8.GetString(p.Value))));
    }

    [Theory]
    [InlineData(127, new byte[] { 0x7F })]
    [InlineData(128, new byte[] { 0x80, 0x00, 0x00, 0x80 })]
    public void Parse_decodes_names_at_the_one_byte_limit(int nameLength, byte[] prefix)
    {
        var name = new byte[nameLength];
        name.AsSpan().Fill((byte)'n');
        byte[] data = [.. prefix, 0x01, .. name, (byte)'v'];
        var collector = new PairCollector();

        NameValueReader.Parse(data, ref collector);

        var pair = Assert.Single(collector.Pairs);
        Assert.Equal(name, pair.Name);
        Assert.Equal("v"u8.ToArray(), pair.Value);
    }

    // Each length in the one-byte form (1) or the four-byte form (4), at 127 and 128 where the forms meet, and the
    // four-byte form of small lengths, which the one-byte fast path must leave to the general one.
    [Theory]
    [InlineData(0, 1, 0, 1)]
    [InlineData(127, 1, 127, 1)]
    [InlineData(128, 4, 1, 1)]
    [InlineData(1, 1, 128, 4)]
    [InlineData(127, 1, 128, 4)]
    [InlineData(128, 4, 127, 1)]
    [InlineData(128, 4, 128, 4)]
    [InlineData(5, 4, 3, 1)]
    [InlineData(3, 1, 5, 4)]
    [InlineData(0, 4, 0, 4)]
    [InlineData(70000, 4, 65536, 4)]
    public void ReadPair_reads_each_length_form_in_place_and_moves_past_the_pair(int nameLength, int nameForm, int valueLength, int valueForm)
    {
        // A pair in front and an empty pair behind: the pair under test sits inside a stream, as most do.
        byte[] lead = [0x01, 0x01, (byte)'a', (byte)'b'];
        var name = Filled(nameLength, (byte)'n');
        var value = Filled(valueLength, (byte)'v');
        byte[] data = [.. lead, .. Prefix(nameLength, nameForm), .. Prefix(valueLength, valueForm), .. name, .. value, 0x00, 0x00];
        var position = lead.Length;

        var nameStart = NameValueReader.ReadPair(data, ref position, out var actualNameLength, out var actualValueLength);

        Assert.Equal(lead.Length + nameForm + valueForm, nameStart);
        Assert.Equal((nameLength, valueLength), (actualNameLength, actualValueLength));
        Assert.Equal(data.Length - 2, position);
        Assert.Equal(name, data.AsSpan(nameStart, nameLength).ToArray());
        Assert.Equal(value, data.AsSpan(nameStart + nameLength, valueLength).ToArray());

        var emptyStart = NameValueReader.ReadPair(data, ref position, out var emptyName, out var emptyValue);
        Assert.Equal((data.Length, 0, 0, data.Length), (emptyStart, emptyName, emptyValue, position));
    }

    [Fact]
    public void Parse_decodes_a_1_MB_value()
    {
        var value = new byte[1048576];
        new Random(11).NextBytes(value);
        byte[] data = [0x01, 0x80, 0x10, 0x00, 0x00, (byte)'K', .. value];
        var collector = new PairCollector();

        NameValueReader.Parse(data, ref collector);

        var pair = Assert.Single(collector.Pairs);
        Assert.Equal(value, pair.Value);
    }

    [Theory]
    [InlineData(new byte[] { 0x80 }, "Name-value data ends inside a length prefix: 1 of 4 bytes present.")]
    [InlineData(new byte[] { 0x80, 0x00, 0x00 }, "Name-value data ends inside a length prefix: 3 of 4 bytes present.")]
    [InlineData(new byte[] { 0x01 }, "Name-value data ends inside a length prefix: 0 of 1 bytes present.")]
    [InlineData(new byte[] { 0x01, 0x80, 0x00 }, "Name-value data ends inside a length prefix: 2 of 4 bytes present.")]
    [InlineData(new byte[] { 0x80, 0x00, 0x00, 0x80 }, "Name-value data ends inside a length prefix: 0 of 1 bytes present.")]
    [InlineData(new byte[] { 0x00, 0x00, 0xFF }, "Name-value data ends inside a length prefix: 1 of 4 bytes present.")]
    [InlineData(new byte[] { 0x01, 0x01, (byte)'a', (byte)'b', 0x05 }, "Name-value data ends inside a length prefix: 0 of 1 bytes present.")]
    [InlineData(new byte[] { 0x7F, 0x80 }, "Name-value data ends inside a length prefix: 1 of 4 bytes present.")]
    [InlineData(new byte[] { 0x7F, 0x80, 0x00, 0x00 }, "Name-value data ends inside a length prefix: 3 of 4 bytes present.")]
    [InlineData(new byte[] { 0x80, 0x00, 0x00, 0x01 }, "Name-value data ends inside a length prefix: 0 of 1 bytes present.")]
    public void Parse_rejects_a_truncated_length_prefix(byte[] data, string message)
    {
        var exception = Assert.Throws<ProtocolException>(() => Parse(data));

        Assert.Equal(ProtocolRejectionReason.NameValueTruncated, exception.Reason);
        Assert.Equal(message, exception.Message);
    }

    [Theory]
    [InlineData(new byte[] { 0x05, 0x00, (byte)'a', (byte)'b' }, "Name-value length 5 runs past the 2 bytes that remain.")]
    [InlineData(new byte[] { 0x01, 0x05, (byte)'a', (byte)'b' }, "Name-value length 5 runs past the 1 bytes that remain.")]
    [InlineData(new byte[] { 0x01, 0x01, (byte)'a' }, "Name-value length 1 runs past the 0 bytes that remain.")]
    [InlineData(new byte[] { 0x80, 0x00, 0x00, 0x80, 0x00, (byte)'a' }, "Name-value length 128 runs past the 1 bytes that remain.")]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x00 }, "Name-value length 2147483647 runs past the 0 bytes that remain.")]
    [InlineData(new byte[] { 0x00, 0xFF, 0xFF, 0xFF, 0xFF }, "Name-value length 2147483647 runs past the 0 bytes that remain.")]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3 }, "Name-value length 2147483647 runs past the 3 bytes that remain.")]
    [InlineData(new byte[] { 0x01, 0xFF, 0xFF, 0xFF, 0xFF, (byte)'a', 1, 2 }, "Name-value length 2147483647 runs past the 2 bytes that remain.")]
    public void Parse_rejects_a_length_past_the_content(byte[] data, string message)
    {
        var exception = Assert.Throws<ProtocolException>(() => Parse(data));

        Assert.Equal(ProtocolRejectionReason.NameValueLengthPastContent, exception.Reason);
        Assert.Equal(message, exception.Message);
    }

    [Fact]
    public void Parse_hands_over_the_good_pairs_before_the_bad_one()
    {
        byte[] data = [0x01, 0x01, (byte)'a', (byte)'b', 0x09, 0x00, (byte)'c'];
        var collector = new PairCollector();

        Assert.Throws<ProtocolException>(() => NameValueReader.Parse(data, ref collector));

        Assert.Single(collector.Pairs);
    }

    [Fact]
    public void Parse_accepts_a_ref_struct_handler()
    {
        byte[] data = [0x01, 0x01, (byte)'a', (byte)'b', 0x02, 0x00, (byte)'c', (byte)'d'];
        Span<int> lengths = stackalloc int[4];
        var handler = new LengthRecorder(lengths);

        NameValueReader.Parse(data, ref handler);

        Assert.Equal(2, handler.Count);
        Assert.Equal(new[] { 1, 1, 2, 0 }, lengths.ToArray());
    }

    [Fact]
    public void Write_then_Parse_round_trips_random_pairs()
    {
        var random = new Random(20240611);
        var expected = new List<(byte[] Name, byte[] Value)>();
        var output = new ArrayBufferWriter<byte>();
        for (var i = 0; i < 500; i++)
        {
            var name = RandomBytes(random);
            var value = RandomBytes(random);
            expected.Add((name, value));
            NameValueWriter.Write(output, name, value);
        }

        var collector = new PairCollector();
        NameValueReader.Parse(output.WrittenSpan, ref collector);

        Assert.Equal(expected.Count, collector.Pairs.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Name, collector.Pairs[i].Name);
            Assert.Equal(expected[i].Value, collector.Pairs[i].Value);
        }
    }

    private static byte[] Prefix(int length, int form) =>
        form == 1 ? [(byte)length] : [(byte)((length >> 24) | 0x80), (byte)(length >> 16), (byte)(length >> 8), (byte)length];

    private static byte[] Filled(int length, byte fill)
    {
        var bytes = new byte[length];
        bytes.AsSpan().Fill(fill);
        return bytes;
    }

    private static void Parse(byte[] data)
    {
        var collector = new PairCollector();
        NameValueReader.Parse(data, ref collector);
    }

    // Lengths around the one-byte limit most of the time, sometimes empty or large.
    private static byte[] RandomBytes(Random random)
    {
        var length = random.Next(10) switch
        {
            0 => 0,
            1 => 127,
            2 => 128,
            3 => random.Next(126, 130),
            4 => random.Next(1000, 70000),
            _ => random.Next(0, 300),
        };
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private ref struct LengthRecorder : INameValueHandler
    {
        private readonly Span<int> _lengths;

        public LengthRecorder(Span<int> lengths)
        {
            _lengths = lengths;
        }

        public int Count { get; private set; }

        public void OnPair(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
        {
            _lengths[Count * 2] = name.Length;
            _lengths[(Count * 2) + 1] = value.Length;
            Count++;
        }
    }
}
