using FastCgi.Protocol;
using Xunit;

namespace FastCgi.Tests.Protocol;

public class RecordHeaderTests
{
    // Spec 3.3: version, type, requestId (B1 B0), contentLength (B1 B0), paddingLength, reserved.
    [Theory]
    [InlineData(new byte[] { 1, 4, 0x00, 0x01, 0x00, 0x00, 0x00, 0 }, 4, 1, 0, 0)]
    [InlineData(new byte[] { 1, 5, 0x00, 0x01, 0x00, 0x01, 0x07, 0 }, 5, 1, 1, 7)]
    [InlineData(new byte[] { 1, 6, 0x00, 0x01, 0x00, 0x08, 0x00, 0 }, 6, 1, 8, 0)]
    [InlineData(new byte[] { 1, 6, 0x00, 0x01, 0xFF, 0xFF, 0x01, 0 }, 6, 1, 65535, 1)]
    [InlineData(new byte[] { 1, 7, 0x00, 0x01, 0x00, 0x01, 0xFF, 0 }, 7, 1, 1, 255)]
    [InlineData(new byte[] { 1, 9, 0x00, 0x00, 0x00, 0x00, 0x00, 0 }, 9, 0, 0, 0)]
    [InlineData(new byte[] { 1, 8, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0 }, 8, 65535, 0, 0)]
    [InlineData(new byte[] { 1, 1, 0x01, 0x00, 0x01, 0x00, 0x00, 0 }, 1, 256, 256, 0)]
    [InlineData(new byte[] { 1, 2, 0x12, 0x34, 0x56, 0x78, 0x9A, 0 }, 2, 0x1234, 0x5678, 0x9A)]
    [InlineData(new byte[] { 1, 11, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0 }, 11, 65535, 65535, 255)]
    [InlineData(new byte[] { 1, 42, 0x00, 0x00, 0x00, 0x00, 0x00, 0 }, 42, 0, 0, 0)]
    public void ReadFrom_and_WriteTo_match_the_wire_bytes(byte[] bytes, int type, int requestId, int contentLength, int paddingLength)
    {
        var header = RecordHeader.ReadFrom(bytes);

        Assert.Equal(1, header.Version);
        Assert.Equal((RecordType)type, header.Type);
        Assert.Equal(requestId, header.RequestId);
        Assert.Equal(contentLength, header.ContentLength);
        Assert.Equal(paddingLength, header.PaddingLength);
        Assert.Equal(8 + contentLength + paddingLength, header.TotalLength);
        Assert.Equal(requestId == 0, header.IsManagement);

        var written = new byte[8];
        new RecordHeader((RecordType)type, (ushort)requestId, (ushort)contentLength, (byte)paddingLength).WriteTo(written);
        Assert.Equal(bytes, written);
    }

    [Fact]
    public void ReadFrom_ignores_the_reserved_byte_and_keeps_the_version()
    {
        var header = RecordHeader.ReadFrom([2, 4, 0, 1, 0, 3, 5, 0xEE]);

        Assert.Equal(2, header.Version);
        Assert.Equal(RecordType.Params, header.Type);
        Assert.Equal(3, header.ContentLength);
        Assert.Equal(5, header.PaddingLength);
    }

    [Fact]
    public void WriteTo_zeroes_the_reserved_byte()
    {
        var written = new byte[] { 0xCC, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC };

        new RecordHeader(RecordType.Stdout, 1, 2, 6).WriteTo(written);

        Assert.Equal(new byte[] { 1, 6, 0, 1, 0, 2, 6, 0, 0xCC }, written);
    }

    [Fact]
    public void TotalLength_at_its_largest_does_not_overflow_a_ushort()
    {
        Assert.Equal(8 + 65535 + 255, new RecordHeader(RecordType.Stdin, 1, 65535, 255).TotalLength);
    }

    [Theory]
    [InlineData(4, 1, 120, 0, "Params id=1 len=120 pad=0")]
    [InlineData(6, 65535, 65535, 1, "Stdout id=65535 len=65535 pad=1")]
    [InlineData(9, 0, 0, 0, "GetValues id=0 len=0 pad=0")]
    [InlineData(42, 0, 8, 0, "42 id=0 len=8 pad=0")]
    public void ToString_is_one_line_for_logs(int type, int requestId, int contentLength, int paddingLength, string expected)
    {
        var header = new RecordHeader((RecordType)type, (ushort)requestId, (ushort)contentLength, (byte)paddingLength);

        Assert.Equal(expected, header.ToString());
    }
}
