using System.Buffers;
using FastCgi.Protocol;
using FastCgi.Testing;
using Xunit;

namespace FastCgi.Tests.Protocol;

public class BeginRequestBodyTests
{
    // Spec 5.1: roleB1, roleB0, flags, 5 reserved bytes.
    [Theory]
    [InlineData(new byte[] { 0x00, 0x01, 0x00, 0, 0, 0, 0, 0 }, 1, 0, false, true)]
    [InlineData(new byte[] { 0x00, 0x01, 0x01, 0, 0, 0, 0, 0 }, 1, 1, true, true)]
    [InlineData(new byte[] { 0x00, 0x02, 0x00, 0, 0, 0, 0, 0 }, 2, 0, false, true)]
    [InlineData(new byte[] { 0x00, 0x03, 0x01, 0, 0, 0, 0, 0 }, 3, 1, true, true)]
    [InlineData(new byte[] { 0x00, 0x03, 0xFE, 0, 0, 0, 0, 0 }, 3, 0xFE, false, true)]
    [InlineData(new byte[] { 0x00, 0x01, 0xFF, 0, 0, 0, 0, 0 }, 1, 0xFF, true, true)]
    [InlineData(new byte[] { 0x00, 0x00, 0x00, 0, 0, 0, 0, 0 }, 0, 0, false, false)]
    [InlineData(new byte[] { 0x00, 0x04, 0x00, 0, 0, 0, 0, 0 }, 4, 0, false, false)]
    [InlineData(new byte[] { 0x01, 0x00, 0x00, 0, 0, 0, 0, 0 }, 256, 0, false, false)]
    [InlineData(new byte[] { 0xFF, 0xFF, 0x01, 0, 0, 0, 0, 0 }, 65535, 1, true, false)]
    public void ReadFrom_and_WriteTo_match_the_wire_bytes(byte[] bytes, int role, int flags, bool keepConnection, bool knownRole)
    {
        var body = BeginRequestBody.ReadFrom(new ReadOnlySequence<byte>(bytes));

        Assert.Equal((Role)role, body.Role);
        Assert.Equal(flags, body.Flags);
        Assert.Equal(keepConnection, body.KeepConnection);
        Assert.Equal(knownRole, body.IsKnownRole);

        var written = new byte[8];
        new BeginRequestBody((Role)role, (byte)flags).WriteTo(written);
        Assert.Equal(bytes, written);
    }

    [Fact]
    public void ReadFrom_ignores_the_reserved_bytes_and_anything_after_them()
    {
        byte[] bytes = [0x00, 0x02, 0x01, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0x11, 0x22];

        var body = BeginRequestBody.ReadFrom(new ReadOnlySequence<byte>(bytes));

        Assert.Equal(Role.Authorizer, body.Role);
        Assert.True(body.KeepConnection);
    }

    [Fact]
    public void ReadFrom_reads_a_body_split_at_every_offset()
    {
        byte[] bytes = [0x00, 0x03, 0x01, 0, 0, 0, 0, 0];
        for (var split = 0; split <= bytes.Length; split++)
        {
            var body = BeginRequestBody.ReadFrom(Sequences.Split(bytes, split));

            Assert.Equal(Role.Filter, body.Role);
            Assert.True(body.KeepConnection);
        }

        Assert.Equal(Role.Filter, BeginRequestBody.ReadFrom(Sequences.OneBytePerSegment(bytes)).Role);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(7)]
    public void ReadFrom_rejects_a_short_body(int length)
    {
        var content = new ReadOnlySequence<byte>(new byte[] { 0x00, 0x01, 0x01, 0, 0, 0, 0 }, 0, length);

        var exception = Assert.Throws<ProtocolException>(() => BeginRequestBody.ReadFrom(content));

        Assert.Equal(ProtocolRejectionReason.InvalidBeginRequestBody, exception.Reason);
        Assert.Equal($"FCGI_BEGIN_REQUEST body is {length} bytes; it needs 8.", exception.Message);
    }

    [Fact]
    public void WriteTo_zeroes_the_reserved_bytes()
    {
        var written = new byte[] { 0xCC, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC };

        new BeginRequestBody(Role.Responder, FastCgiConstants.KeepConnection).WriteTo(written);

        Assert.Equal(new byte[] { 0x00, 0x01, 0x01, 0, 0, 0, 0, 0, 0xCC }, written);
    }
}
