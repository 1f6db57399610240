using FastCgi.Protocol;
using Xunit;

namespace FastCgi.Tests.Protocol;

public class EndRequestBodyTests
{
    // Spec 5.5: appStatusB3..B0, protocolStatus, 3 reserved bytes.
    [Theory]
    [InlineData(new byte[] { 0x00, 0x00, 0x00, 0x00, 0, 0, 0, 0 }, 0, 0)]
    [InlineData(new byte[] { 0x00, 0x00, 0x00, 0x01, 1, 0, 0, 0 }, 1, 1)]
    [InlineData(new byte[] { 0x00, 0x00, 0x01, 0xF4, 2, 0, 0, 0 }, 500, 2)]
    [InlineData(new byte[] { 0x12, 0x34, 0x56, 0x78, 3, 0, 0, 0 }, 0x12345678, 3)]
    [InlineData(new byte[] { 0x7F, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0 }, int.MaxValue, 0)]
    [InlineData(new byte[] { 0x80, 0x00, 0x00, 0x00, 0, 0, 0, 0 }, int.MinValue, 0)]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0 }, -1, 0)]
    public void WriteTo_and_ReadFrom_match_the_wire_bytes(byte[] bytes, int appStatus, int protocolStatus)
    {
        var written = new byte[] { 0xCC, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC };

        new EndRequestBody(appStatus, (ProtocolStatus)protocolStatus).WriteTo(written);

        Assert.Equal(bytes, written);
        var read = EndRequestBody.ReadFrom(bytes);
        Assert.Equal(appStatus, read.AppStatus);
        Assert.Equal((ProtocolStatus)protocolStatus, read.ProtocolStatus);
    }

    [Fact]
    public void ProtocolStatus_values_are_the_spec_values()
    {
        Assert.Equal(0, (byte)ProtocolStatus.RequestComplete);
        Assert.Equal(1, (byte)ProtocolStatus.CantMultiplexConnection);
        Assert.Equal(2, (byte)ProtocolStatus.Overloaded);
        Assert.Equal(3, (byte)ProtocolStatus.UnknownRole);
    }
}
