using FastCgi.Protocol;
using Xunit;

namespace FastCgi.Tests.Protocol;

public class ProtocolExceptionTests
{
    [Theory]
    [InlineData(0, 2, 0, "Record version 2 is not FastCGI 1.0.")]
    [InlineData(1, 5, 0, "FCGI_BEGIN_REQUEST body is 5 bytes; it needs 8.")]
    [InlineData(2, 300, 12, "Name-value length 300 runs past the 12 bytes that remain.")]
    [InlineData(3, 4, 2, "Name-value data ends inside a length prefix: 2 of 4 bytes present.")]
    [InlineData(4, 24, 10, "Input ended inside a record: 10 of 24 bytes present.")]
    [InlineData(5, 7, 0, "FCGI_BEGIN_REQUEST for request id 7, which is still active.")]
    public void Throw_says_exactly_what_was_wrong(int reason, long value, long available, string message)
    {
        var exception = Assert.Throws<ProtocolException>(
            () => ProtocolException.Throw((ProtocolRejectionReason)reason, value, available));

        Assert.Equal((ProtocolRejectionReason)reason, exception.Reason);
        Assert.Equal(message, exception.Message);
    }

    [Fact]
    public void Every_reason_has_its_own_message()
    {
        var messages = Enum.GetValues<ProtocolRejectionReason>()
            .Select(reason => Assert.Throws<ProtocolException>(() => ProtocolException.Throw(reason)).Message)
            .ToList();

        Assert.Equal(messages.Count, messages.Distinct().Count());
    }
}
