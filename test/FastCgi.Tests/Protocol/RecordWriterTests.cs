using System.Buffers;
using FastCgi.Protocol;
using FastCgi.Tests.Support;
using Xunit;

namespace FastCgi.Tests.Protocol;

public class RecordWriterTests
{
    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 7)]
    [InlineData(2, 6)]
    [InlineData(3, 5)]
    [InlineData(4, 4)]
    [InlineData(5, 3)]
    [InlineData(6, 2)]
    [InlineData(7, 1)]
    [InlineData(8, 0)]
    [InlineData(9, 7)]
    [InlineData(10, 6)]
    [InlineData(11, 5)]
    [InlineData(12, 4)]
    [InlineData(13, 3)]
    [InlineData(14, 2)]
    [InlineData(15, 1)]
    [InlineData(16, 0)]
    [InlineData(17, 7)]
    [InlineData(65535, 1)]
    public void WriteRecord_pads_content_to_a_multiple_of_8_with_zeros(int length, int padding)
    {
        Assert.Equal(padding, RecordWriter.PaddingFor(length));
        var content = Pattern(length);
        var output = new TestBufferWriter();

        RecordWriter.WriteRecord(output, RecordType.Stdout, 1, content);

        byte[] header = [1, 6, 0x00, 0x01, (byte)(length >> 8), (byte)length, (byte)padding, 0];
        Assert.Equal([.. header, .. content, .. new byte[padding]], output.WrittenBytes);
    }

    [Theory]
    [InlineData(new byte[] { }, new byte[] { 1, 7, 0x00, 0x02, 0x00, 0x00, 0, 0 })]
    [InlineData(new byte[] { 0x41 }, new byte[] { 1, 7, 0x00, 0x02, 0x00, 0x01, 7, 0, 0x41, 0, 0, 0, 0, 0, 0, 0 })]
    [InlineData(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }, new byte[] { 1, 7, 0x00, 0x02, 0x00, 0x08, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8 })]
    [InlineData(
        new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9 },
        new byte[] { 1, 7, 0x00, 0x02, 0x00, 0x09, 7, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 0, 0, 0, 0, 0, 0 })]
    public void WriteRecord_writes_the_exact_bytes(byte[] content, byte[] expected)
    {
        var output = new TestBufferWriter();

        RecordWriter.WriteRecord(output, RecordType.Stderr, 2, content);

        Assert.Equal(expected, output.WrittenBytes);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(24)]
    public void WriteRecord_is_correct_when_the_writer_gives_shorter_spans_than_asked(int maxSpanLength)
    {
        var content = Pattern(17);
        var output = new TestBufferWriter(maxSpanLength);

        RecordWriter.WriteRecord(output, RecordType.Stdout, 0x0203, content);

        Assert.Equal([1, 6, 0x02, 0x03, 0x00, 0x11, 7, 0, .. content, 0, 0, 0, 0, 0, 0, 0], output.WrittenBytes);
    }

    [Fact]
    public void WriteRecord_writes_an_unknown_type_byte_as_it_is()
    {
        var output = new TestBufferWriter();

        RecordWriter.WriteRecord(output, (RecordType)200, 65535, []);

        Assert.Equal(new byte[] { 1, 200, 0xFF, 0xFF, 0, 0, 0, 0 }, output.WrittenBytes);
    }

    [Fact]
    public void WriteRecord_refuses_content_over_65535_bytes()
    {
        var output = new TestBufferWriter();

        Assert.Throws<ArgumentOutOfRangeException>(() => RecordWriter.WriteRecord(output, RecordType.Stdout, 1, new byte[65536]));
        Assert.Empty(output.WrittenBytes);
    }

    [Fact]
    public void WriteStream_writes_nothing_for_empty_data()
    {
        var output = new TestBufferWriter();

        RecordWriter.WriteStream(output, RecordType.Stdout, 1, []);

        Assert.Empty(output.WrittenBytes);
    }

    [Fact]
    public void WriteStream_of_1_byte_is_one_padded_record()
    {
        var output = new TestBufferWriter();

        RecordWriter.WriteStream(output, RecordType.Stdout, 1, [0x7A]);

        Assert.Equal(new byte[] { 1, 6, 0x00, 0x01, 0x00, 0x01, 7, 0, 0x7A, 0, 0, 0, 0, 0, 0, 0 }, output.WrittenBytes);
    }

    [Fact]
    public void WriteStream_of_65535_bytes_is_one_record()
    {
        var data = Pattern(65535);
        var output = new ArrayBufferWriter<byte>();

        RecordWriter.WriteStream(output, RecordType.Stdout, 1, data);

        byte[] expected = [1, 6, 0x00, 0x01, 0xFF, 0xFF, 0x01, 0, .. data, 0];
        Assert.Equal(expected, output.WrittenSpan.ToArray());
    }

    [Fact]
    public void WriteStream_of_65536_bytes_is_a_full_record_and_a_1_byte_record()
    {
        var data = Pattern(65536);
        var output = new ArrayBufferWriter<byte>();

        RecordWriter.WriteStream(output, RecordType.Stdout, 1, data);

        byte[] expected =
        [
            1, 6, 0x00, 0x01, 0xFF, 0xFF, 0x01, 0, .. data[..65535], 0,
            1, 6, 0x00, 0x01, 0x00, 0x01, 0x07, 0, .. data[65535..], 0, 0, 0, 0, 0, 0, 0,
        ];
        Assert.Equal(expected, output.WrittenSpan.ToArray());
    }

    [Fact]
    public void WriteStream_of_66000_bytes_is_a_full_record_and_a_465_byte_record()
    {
        var data = Pattern(66000);
        var output = new ArrayBufferWriter<byte>();

        RecordWriter.WriteStream(output, RecordType.Stdin, 300, data);
        RecordWriter.WriteEndOfStream(output, RecordType.Stdin, 300);

        // 66000 - 65535 = 465 = 0x01D1 bytes, padded by 7 to 472.
        byte[] expected =
        [
            1, 5, 0x01, 0x2C, 0xFF, 0xFF, 0x01, 0, .. data[..65535], 0,
            1, 5, 0x01, 0x2C, 0x01, 0xD1, 0x07, 0, .. data[65535..], 0, 0, 0, 0, 0, 0, 0,
            1, 5, 0x01, 0x2C, 0x00, 0x00, 0x00, 0,
        ];
        Assert.Equal(expected, output.WrittenSpan.ToArray());
    }

    [Fact]
    public void WriteStream_of_200000_bytes_is_three_full_records_and_a_3395_byte_record()
    {
        var data = Pattern(200000);
        var output = new ArrayBufferWriter<byte>();

        RecordWriter.WriteStream(output, RecordType.Stdout, 65535, data);

        // 200000 - 3 * 65535 = 3395 = 0x0D43 bytes, padded by 5 to 3400.
        byte[] expected =
        [
            1, 6, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0, .. data[..65535], 0,
            1, 6, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0, .. data[65535..131070], 0,
            1, 6, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0, .. data[131070..196605], 0,
            1, 6, 0xFF, 0xFF, 0x0D, 0x43, 0x05, 0, .. data[196605..], 0, 0, 0, 0, 0,
        ];
        Assert.Equal(expected, output.WrittenSpan.ToArray());
    }

    [Fact]
    public void WriteStream_is_correct_when_the_writer_gives_short_spans()
    {
        var data = Pattern(66000);
        var expected = new ArrayBufferWriter<byte>();
        RecordWriter.WriteStream(expected, RecordType.Stdout, 1, data);
        var output = new TestBufferWriter(4096);

        RecordWriter.WriteStream(output, RecordType.Stdout, 1, data);

        Assert.Equal(expected.WrittenSpan.ToArray(), output.WrittenBytes);
    }

    [Theory]
    [InlineData(6, 1, new byte[] { 1, 6, 0x00, 0x01, 0, 0, 0, 0 })]
    [InlineData(7, 1, new byte[] { 1, 7, 0x00, 0x01, 0, 0, 0, 0 })]
    [InlineData(4, 65535, new byte[] { 1, 4, 0xFF, 0xFF, 0, 0, 0, 0 })]
    public void WriteEndOfStream_writes_an_empty_record(int type, int requestId, byte[] expected)
    {
        var output = new TestBufferWriter();

        RecordWriter.WriteEndOfStream(output, (RecordType)type, (ushort)requestId);

        Assert.Equal(expected, output.WrittenBytes);
    }

    [Theory]
    [InlineData(1, 0, 0, new byte[] { 1, 3, 0x00, 0x01, 0x00, 0x08, 0, 0, 0x00, 0x00, 0x00, 0x00, 0, 0, 0, 0 })]
    [InlineData(0x0102, 0x12345678, 2, new byte[] { 1, 3, 0x01, 0x02, 0x00, 0x08, 0, 0, 0x12, 0x34, 0x56, 0x78, 2, 0, 0, 0 })]
    [InlineData(65535, -1, 3, new byte[] { 1, 3, 0xFF, 0xFF, 0x00, 0x08, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 3, 0, 0, 0 })]
    [InlineData(7, 500, 1, new byte[] { 1, 3, 0x00, 0x07, 0x00, 0x08, 0, 0, 0x00, 0x00, 0x01, 0xF4, 1, 0, 0, 0 })]
    public void WriteEndRequest_writes_the_exact_bytes(int requestId, int appStatus, int protocolStatus, byte[] expected)
    {
        var output = new TestBufferWriter();

        RecordWriter.WriteEndRequest(output, (ushort)requestId, appStatus, (ProtocolStatus)protocolStatus);

        Assert.Equal(expected, output.WrittenBytes);
    }

    [Theory]
    [InlineData(42, new byte[] { 1, 11, 0, 0, 0, 8, 0, 0, 42, 0, 0, 0, 0, 0, 0, 0 })]
    [InlineData(0, new byte[] { 1, 11, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 })]
    [InlineData(255, new byte[] { 1, 11, 0, 0, 0, 8, 0, 0, 255, 0, 0, 0, 0, 0, 0, 0 })]
    public void WriteUnknownType_writes_the_exact_bytes(int unknownType, byte[] expected)
    {
        var output = new TestBufferWriter();

        RecordWriter.WriteUnknownType(output, (byte)unknownType);

        Assert.Equal(expected, output.WrittenBytes);
    }

    [Fact]
    public void WriteGetValuesResult_writes_one_management_record()
    {
        var output = new TestBufferWriter();

        RecordWriter.WriteGetValuesResult(output, [new("FCGI_MPXS_CONNS", "0")]);

        // 2 length bytes + 15 + 1 = 18 bytes of content, padded by 6.
        byte[] expected =
        [
            1, 10, 0, 0, 0x00, 18, 6, 0,
            15, 1, .. "FCGI_MPXS_CONNS"u8, (byte)'0',
            0, 0, 0, 0, 0, 0,
        ];
        Assert.Equal(expected, output.WrittenBytes);
    }

    [Fact]
    public void WriteGetValuesResult_writes_all_three_variables()
    {
        var output = new TestBufferWriter();

        RecordWriter.WriteGetValuesResult(
            output,
            [new("FCGI_MAX_CONNS", "10"), new("FCGI_MAX_REQS", "50"), new("FCGI_MPXS_CONNS", "1")]);

        // (2 + 14 + 2) + (2 + 13 + 2) + (2 + 15 + 1) = 53 bytes of content, padded by 3.
        byte[] expected =
        [
            1, 10, 0, 0, 0x00, 53, 3, 0,
            14, 2, .. "FCGI_MAX_CONNS"u8, .. "10"u8,
            13, 2, .. "FCGI_MAX_REQS"u8, .. "50"u8,
            15, 1, .. "FCGI_MPXS_CONNS"u8, .. "1"u8,
            0, 0, 0,
        ];
        Assert.Equal(expected, output.WrittenBytes);
    }

    [Fact]
    public void WriteGetValuesResult_writes_an_empty_record_for_no_values()
    {
        var output = new TestBufferWriter();

        RecordWriter.WriteGetValuesResult(output, []);

        Assert.Equal(new byte[] { 1, 10, 0, 0, 0, 0, 0, 0 }, output.WrittenBytes);
    }

    [Fact]
    public void WriteGetValuesResult_encodes_names_and_values_as_utf8()
    {
        var output = new TestBufferWriter();

        RecordWriter.WriteGetValuesResult(output, [new("X", "é")]);

        Assert.Equal(new byte[] { 1, 10, 0, 0, 0, 5, 3, 0, 1, 2, (byte)'X', 0xC3, 0xA9, 0, 0, 0 }, output.WrittenBytes);
    }

    [Fact]
    public void WriteGetValuesResult_fills_a_record_to_exactly_65535_bytes()
    {
        // 1 + 4 length bytes + 1-byte name + 65529-byte value = 65535.
        var value = new string('v', 65529);
        var output = new ArrayBufferWriter<byte>();

        RecordWriter.WriteGetValuesResult(output, [new("N", value)]);

        byte[] expected = [1, 10, 0, 0, 0xFF, 0xFF, 1, 0, 0x01, 0x80, 0x00, 0xFF, 0xF9, (byte)'N', .. new byte[65529].Select(_ => (byte)'v'), 0];
        Assert.Equal(expected, output.WrittenSpan.ToArray());
    }

    [Fact]
    public void WriteGetValuesResult_refuses_values_that_do_not_fit_one_record()
    {
        var output = new TestBufferWriter();

        var exception = Assert.Throws<ArgumentException>(
            () => RecordWriter.WriteGetValuesResult(output, [new("N", new string('v', 65530))]));

        Assert.Equal("values", exception.ParamName);
        Assert.Empty(output.WrittenBytes);
    }

    [Fact]
    public void MaxRecordOverhead_is_the_header_and_the_largest_padding()
    {
        Assert.Equal(15, RecordWriter.MaxRecordOverhead);
        Assert.Equal(7, RecordWriter.MaxPaddingLength);
    }

    // Content that differs from its neighbours, so a misplaced slice shows.
    private static byte[] Pattern(int length)
    {
        var data = new byte[length];
        for (var i = 0; i < length; i++)
        {
            data[i] = (byte)((i % 251) + 1);
        }

        return data;
    }
}
