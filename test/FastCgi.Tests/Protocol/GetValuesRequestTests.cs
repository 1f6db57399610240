using System.Buffers;
using FastCgi.Protocol;
using FastCgi.Tests.Support;
using Xunit;

namespace FastCgi.Tests.Protocol;

public class GetValuesRequestTests
{
    // Spec 4.1: the names, each with an empty value.
    private static readonly byte[] AllThree =
    [
        0x0E, 0x00, .. "FCGI_MAX_CONNS"u8,
        0x0D, 0x00, .. "FCGI_MAX_REQS"u8,
        0x0F, 0x00, .. "FCGI_MPXS_CONNS"u8,
    ];

    [Fact]
    public void Parse_finds_all_three_variables()
    {
        var request = GetValuesRequest.Parse(new ReadOnlySequence<byte>(AllThree));

        Assert.True(request.MaxConns);
        Assert.True(request.MaxReqs);
        Assert.True(request.MpxsConns);
    }

    [Fact]
    public void Parse_finds_only_the_variables_asked_for()
    {
        byte[] content = [0x0F, 0x00, .. "FCGI_MPXS_CONNS"u8];

        var request = GetValuesRequest.Parse(new ReadOnlySequence<byte>(content));

        Assert.False(request.MaxConns);
        Assert.False(request.MaxReqs);
        Assert.True(request.MpxsConns);
    }

    [Fact]
    public void Parse_ignores_unknown_names_and_near_misses()
    {
        byte[] content =
        [
            0x0D, 0x00, .. "FCGI_MAX_CONN"u8,
            0x0D, 0x00, .. "fcgi_max_reqs"u8,
            0x07, 0x00, .. "UNKNOWN"u8,
        ];

        var request = GetValuesRequest.Parse(new ReadOnlySequence<byte>(content));

        Assert.Equal(default, (request.MaxConns, request.MaxReqs, request.MpxsConns));
    }

    [Fact]
    public void Parse_ignores_a_value_sent_with_a_name()
    {
        byte[] content = [0x0D, 0x02, .. "FCGI_MAX_REQS"u8, .. "10"u8];

        var request = GetValuesRequest.Parse(new ReadOnlySequence<byte>(content));

        Assert.True(request.MaxReqs);
    }

    [Fact]
    public void Parse_of_an_empty_body_asks_for_nothing()
    {
        var request = GetValuesRequest.Parse(ReadOnlySequence<byte>.Empty);

        Assert.Equal(default, (request.MaxConns, request.MaxReqs, request.MpxsConns));
    }

    [Fact]
    public void Parse_reads_a_body_split_at_every_offset()
    {
        for (var split = 0; split <= AllThree.Length; split++)
        {
            var request = GetValuesRequest.Parse(Sequences.Split(AllThree, split));

            Assert.True(request.MaxConns && request.MaxReqs && request.MpxsConns, $"split at {split}");
        }
    }

    [Fact]
    public void Parse_rejects_malformed_pairs()
    {
        byte[] content = [0x0E, 0x00, .. "FCGI_MAX"u8];

        var exception = Assert.Throws<ProtocolException>(() => GetValuesRequest.Parse(Sequences.Split(content, 3)));

        Assert.Equal(ProtocolRejectionReason.NameValueLengthPastContent, exception.Reason);
    }

    [Fact]
    public void The_names_are_the_spec_names_in_both_forms()
    {
        Assert.Equal("FCGI_MAX_CONNS"u8.ToArray(), FastCgiConstants.MaxConnsUtf8.ToArray());
        Assert.Equal("FCGI_MAX_REQS"u8.ToArray(), FastCgiConstants.MaxReqsUtf8.ToArray());
        Assert.Equal("FCGI_MPXS_CONNS"u8.ToArray(), FastCgiConstants.MpxsConnsUtf8.ToArray());
        Assert.Equal("FCGI_MAX_CONNS", FastCgiConstants.MaxConns);
        Assert.Equal("FCGI_MAX_REQS", FastCgiConstants.MaxReqs);
        Assert.Equal("FCGI_MPXS_CONNS", FastCgiConstants.MpxsConns);
    }
}
