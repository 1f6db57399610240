using System.Buffers;
using FastCgi.Protocol;
using FastCgi.Tests.Support;
using Xunit;

namespace FastCgi.Tests.Protocol;

public class NameValueWriterTests
{
    // Spec 3.4: below 128 one byte; otherwise four bytes, big-endian, top bit set.
    [Theory]
    [InlineData(0, new byte[] { 0x00 })]
    [InlineData(1, new byte[] { 0x01 })]
    [InlineData(127, new byte[] { 0x7F })]
    [InlineData(128, new byte[] { 0x80, 0x00, 0x00, 0x80 })]
    [InlineData(255, new byte[] { 0x80, 0x00, 0x00, 0xFF })]
    [InlineData(256, new byte[] { 0x80, 0x00, 0x01, 0x00 })]
    [InlineData(65535, new byte[] { 0x80, 0x00, 0xFF, 0xFF })]
    [InlineData(1048576, new byte[] { 0x80, 0x10, 0x00, 0x00 })]
    [InlineData(0x01020304, new byte[] { 0x81, 0x02, 0x03, 0x04 })]
    [InlineData(int.MaxValue, new byte[] { 0xFF, 0xFF, 0xFF, 0xFF })]
    public void WriteLength_encodes_at_the_edges(int length, byte[] expected)
    {
        var destination = new byte[4];

        var used = NameValueWriter.WriteLength(destination, length);

        Assert.Equal(expected.Length, used);
        Assert.Equal(expected.Length, NameValueWriter.GetLengthSize(length));
        Assert.Equal(expected, destination[..used]);
    }

    [Theory]
    [InlineData(0, 0, 2)]
    [InlineData(1, 2, 5)]
    [InlineData(127, 127, 256)]
    [InlineData(128, 0, 133)]
    [InlineData(127, 128, 260)]
    [InlineData(128, 128, 264)]
    [InlineData(1, 1048576, 1048582)]
    public void GetEncodedSize_counts_prefixes_name_and_value(int nameLength, int valueLength, int expected)
    {
        Assert.Equal(expected, NameValueWriter.GetEncodedSize(nameLength, valueLength));
    }

    [Fact]
    public void GetEncodedSize_refuses_to_overflow()
    {
        Assert.Throws<OverflowException>(() => NameValueWriter.GetEncodedSize(int.MaxValue, 1));
    }

    [Fact]
    public void Write_encodes_a_short_pair()
    {
        var destination = new byte[5];

        var used = NameValueWriter.Write(destination, "A"u8, "bc"u8);

        Assert.Equal(5, used);
        Assert.Equal(new byte[] { 0x01, 0x02, (byte)'A', (byte)'b', (byte)'c' }, destination);
    }

    [Fact]
    public void Write_encodes_an_empty_pair()
    {
        var destination = new byte[2];

        Assert.Equal(2, NameValueWriter.Write(destination, [], []));
        Assert.Equal(new byte[] { 0x00, 0x00 }, destination);
    }

    [Fact]
    public void Write_uses_one_byte_for_a_127_byte_name()
    {
        var name = Filled(127, (byte)'n');
        var destination = new byte[130];

        var used = NameValueWriter.Write(destination, name, "v"u8);

        Assert.Equal(130, used);
        Assert.Equal([0x7F, 0x01, .. name, (byte)'v'], destination);
    }

    [Fact]
    public void Write_uses_four_bytes_for_a_128_byte_name()
    {
        var name = Filled(128, (byte)'n');
        var destination = new byte[134];

        var used = NameValueWriter.Write(destination, name, "v"u8);

        Assert.Equal(134, used);
        Assert.Equal([0x80, 0x00, 0x00, 0x80, 0x01, .. name, (byte)'v'], destination);
    }

    [Fact]
    public void Write_encodes_a_65535_byte_value()
    {
        var value = Filled(65535, (byte)'x');
        var destination = new byte[1 + 4 + 1 + 65535];

        NameValueWriter.Write(destination, "K"u8, value);

        Assert.Equal([0x01, 0x80, 0x00, 0xFF, 0xFF, (byte)'K', .. value], destination);
    }

    [Fact]
    public void Write_encodes_a_1_MB_value()
    {
        var value = Filled(1048576, (byte)'x');
        var output = new ArrayBufferWriter<byte>();

        NameValueWriter.Write(output, "BIG"u8, value);

        Assert.Equal([0x03, 0x80, 0x10, 0x00, 0x00, (byte)'B', (byte)'I', (byte)'G', .. value], output.WrittenSpan.ToArray());
    }

    [Fact]
    public void Write_refuses_a_destination_that_is_too_short()
    {
        var destination = new byte[4];

        Assert.Throws<ArgumentException>(() => NameValueWriter.Write(destination, "A"u8, "bc"u8));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(200)]
    public void Write_to_a_buffer_writer_matches_the_span_overload_whatever_span_it_gets(int maxSpanLength)
    {
        var name = Filled(130, (byte)'n');
        var value = Filled(300, (byte)'v');
        var expected = new byte[NameValueWriter.GetEncodedSize(name.Length, value.Length)];
        NameValueWriter.Write(expected, name, value);
        var output = new TestBufferWriter(maxSpanLength);

        NameValueWriter.Write(output, name, value);

        Assert.Equal(expected, output.WrittenBytes);
    }

    private static byte[] Filled(int length, byte value)
    {
        var bytes = new byte[length];
        bytes.AsSpan().Fill(value);
        return bytes;
    }
}
