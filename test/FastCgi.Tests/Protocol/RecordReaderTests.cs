using System.Buffers;
using FastCgi.Protocol;
using FastCgi.Testing;
using Xunit;

namespace FastCgi.Tests.Protocol;

public class RecordReaderTests
{
    // PARAMS, id 1, content "hello" (5 bytes), padding 3.
    private static readonly byte[] HelloRecord =
    [
        1, 4, 0x00, 0x01, 0x00, 0x05, 3, 0,
        (byte)'h', (byte)'e', (byte)'l', (byte)'l', (byte)'o',
        0, 0, 0,
    ];

    // STDIN, id 0x0102, empty: the end of a stream.
    private static readonly byte[] EmptyStdinRecord = [1, 5, 0x01, 0x02, 0x00, 0x00, 0, 0];

    [Fact]
    public void Reads_a_whole_record_and_consumes_it_with_its_padding()
    {
        var buffer = new ReadOnlySequence<byte>(HelloRecord);

        Assert.True(RecordReader.TryReadRecord(ref buffer, out var header, out var content));

        Assert.Equal(RecordType.Params, header.Type);
        Assert.Equal(1, header.RequestId);
        Assert.Equal(5, header.ContentLength);
        Assert.Equal(3, header.PaddingLength);
        Assert.Equal("hello"u8.ToArray(), content.ToArray());
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void Reads_an_empty_record()
    {
        var buffer = new ReadOnlySequence<byte>(EmptyStdinRecord);

        Assert.True(RecordReader.TryReadRecord(ref buffer, out var header, out var content));

        Assert.Equal(RecordType.Stdin, header.Type);
        Assert.Equal(0x0102, header.RequestId);
        Assert.True(content.IsEmpty);
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void Returns_false_on_an_empty_buffer()
    {
        var buffer = ReadOnlySequence<byte>.Empty;

        Assert.False(RecordReader.TryReadRecord(ref buffer, out _, out _));
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void Returns_false_and_leaves_the_buffer_for_every_incomplete_prefix()
    {
        for (var length = 0; length < HelloRecord.Length; length++)
        {
            var original = new ReadOnlySequence<byte>(HelloRecord, 0, length);
            var buffer = original;

            Assert.False(RecordReader.TryReadRecord(ref buffer, out _, out _), $"prefix of {length} bytes");
            Assert.Equal(original.Start, buffer.Start);
            Assert.Equal(original.End, buffer.End);
        }
    }

    [Fact]
    public void A_record_split_at_every_offset_is_read_only_once_both_parts_are_there()
    {
        for (var split = 0; split <= HelloRecord.Length; split++)
        {
            var firstPartOnly = new ReadOnlySequence<byte>(HelloRecord, 0, split);
            var complete = split == HelloRecord.Length;
            Assert.Equal(complete, RecordReader.TryReadRecord(ref firstPartOnly, out _, out _));

            var buffer = Sequences.Split(HelloRecord, split);

            Assert.True(RecordReader.TryReadRecord(ref buffer, out var header, out var content), $"split at {split}");
            Assert.Equal(RecordType.Params, header.Type);
            Assert.Equal(1, header.RequestId);
            Assert.Equal("hello"u8.ToArray(), content.ToArray());
            Assert.True(buffer.IsEmpty);
        }
    }

    [Fact]
    public void Every_prefix_of_a_record_split_at_every_offset_is_incomplete()
    {
        for (var split = 0; split <= HelloRecord.Length; split++)
        {
            var whole = Sequences.Split(HelloRecord, split);
            for (var length = 0; length < HelloRecord.Length; length++)
            {
                var original = whole.Slice(0, length);
                var buffer = original;

                Assert.False(RecordReader.TryReadRecord(ref buffer, out _, out _), $"split at {split}, {length} bytes");
                Assert.Equal(original.Start, buffer.Start);
                Assert.Equal(original.End, buffer.End);
            }
        }
    }

    [Fact]
    public void Reads_a_record_with_every_byte_in_its_own_segment()
    {
        var buffer = Sequences.OneBytePerSegment(HelloRecord);

        Assert.True(RecordReader.TryReadRecord(ref buffer, out var header, out var content));

        Assert.Equal(5, header.ContentLength);
        Assert.Equal("hello"u8.ToArray(), content.ToArray());
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void Reads_past_empty_segments()
    {
        var buffer = Sequences.FromSegments([], HelloRecord[..3], [], HelloRecord[3..]);

        Assert.True(RecordReader.TryReadRecord(ref buffer, out _, out var content));
        Assert.Equal("hello"u8.ToArray(), content.ToArray());
    }

    [Fact]
    public void Slices_the_content_without_copying_it()
    {
        var buffer = Sequences.Split(HelloRecord, 10);
        var secondSegment = buffer.Slice(10).Start.GetObject();

        Assert.True(RecordReader.TryReadRecord(ref buffer, out _, out var content));

        Assert.False(content.IsSingleSegment);
        Assert.Same(secondSegment, content.End.GetObject());
    }

    [Fact]
    public void Reads_two_records_back_to_back()
    {
        var buffer = new ReadOnlySequence<byte>([.. HelloRecord, .. EmptyStdinRecord]);

        Assert.True(RecordReader.TryReadRecord(ref buffer, out var first, out var firstContent));
        Assert.True(RecordReader.TryReadRecord(ref buffer, out var second, out var secondContent));
        Assert.False(RecordReader.TryReadRecord(ref buffer, out _, out _));

        Assert.Equal(RecordType.Params, first.Type);
        Assert.Equal("hello"u8.ToArray(), firstContent.ToArray());
        Assert.Equal(RecordType.Stdin, second.Type);
        Assert.Equal(0x0102, second.RequestId);
        Assert.True(secondContent.IsEmpty);
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void Leaves_a_partial_second_record_in_the_buffer()
    {
        var buffer = new ReadOnlySequence<byte>([.. HelloRecord, .. EmptyStdinRecord[..5]]);

        Assert.True(RecordReader.TryReadRecord(ref buffer, out _, out _));
        Assert.False(RecordReader.TryReadRecord(ref buffer, out _, out _));

        Assert.Equal(EmptyStdinRecord[..5], buffer.ToArray());
    }

    [Fact]
    public void Skips_the_largest_padding()
    {
        // DATA, id 3, content 1 byte, padding 255 (more than a sender needs, which the receiver must still skip).
        byte[] padded = [1, 8, 0x00, 0x03, 0x00, 0x01, 0xFF, 0, 0x5A, .. new byte[255]];
        var buffer = new ReadOnlySequence<byte>([.. padded, .. EmptyStdinRecord]);

        Assert.True(RecordReader.TryReadRecord(ref buffer, out var header, out var content));
        Assert.Equal(8 + 1 + 255, header.TotalLength);
        Assert.Equal(new byte[] { 0x5A }, content.ToArray());

        Assert.True(RecordReader.TryReadRecord(ref buffer, out var next, out _));
        Assert.Equal(RecordType.Stdin, next.Type);
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void Waits_for_the_padding_as_well_as_the_content()
    {
        var original = new ReadOnlySequence<byte>(HelloRecord, 0, HelloRecord.Length - 1);
        var buffer = original;

        Assert.False(RecordReader.TryReadRecord(ref buffer, out _, out _));
        Assert.Equal(original.Length, buffer.Length);
    }

    [Fact]
    public void Reads_the_largest_content_across_segments()
    {
        var data = new byte[65535];
        new Random(7).NextBytes(data);
        byte[] record = [1, 6, 0x00, 0x01, 0xFF, 0xFF, 0x01, 0, .. data, 0];
        var buffer = Sequences.Split(record, 4, 4096, 40000, 65540);

        Assert.True(RecordReader.TryReadRecord(ref buffer, out var header, out var content));

        Assert.Equal(65535, header.ContentLength);
        Assert.Equal(data, content.ToArray());
        Assert.True(buffer.IsEmpty);
    }

    [Theory]
    [InlineData(new byte[] { 0 }, 0)]
    [InlineData(new byte[] { 2 }, 2)]
    [InlineData(new byte[] { 0xFF }, 255)]
    [InlineData(new byte[] { 2, 4, 0, 1 }, 2)]
    [InlineData(new byte[] { 2, 4, 0, 1, 0, 0, 0, 0 }, 2)]
    [InlineData(new byte[] { (byte)'G', (byte)'E', (byte)'T', (byte)' ' }, 71)]
    public void Rejects_a_version_other_than_1_on_the_first_byte(byte[] bytes, int version)
    {
        var buffer = new ReadOnlySequence<byte>(bytes);

        var exception = Assert.Throws<ProtocolException>(() => RecordReader.TryReadRecord(ref buffer, out _, out _));

        Assert.Equal(ProtocolRejectionReason.UnsupportedVersion, exception.Reason);
        Assert.Equal($"Record version {version} is not FastCGI 1.0.", exception.Message);
    }

    [Fact]
    public void Rejects_a_bad_version_behind_an_empty_segment()
    {
        var buffer = Sequences.FromSegments([], [2]);

        var exception = Assert.Throws<ProtocolException>(() => RecordReader.TryReadRecord(ref buffer, out _, out _));

        Assert.Equal(ProtocolRejectionReason.UnsupportedVersion, exception.Reason);
    }

    [Fact]
    public void Rejects_a_bad_version_in_the_second_record()
    {
        var buffer = new ReadOnlySequence<byte>([.. HelloRecord, 3]);

        Assert.True(RecordReader.TryReadRecord(ref buffer, out _, out _));
        var exception = Assert.Throws<ProtocolException>(() => RecordReader.TryReadRecord(ref buffer, out _, out _));

        Assert.Equal(ProtocolRejectionReason.UnsupportedVersion, exception.Reason);
        Assert.Equal("Record version 3 is not FastCGI 1.0.", exception.Message);
    }
}
