using FastCgi.Cgi;
using Xunit;

namespace FastCgi.Tests.Options;

/// <summary>Every default of <see cref="RequestLimits"/>, and the values it refuses when they are set.</summary>
public sealed class RequestLimitsTests
{
    public static TheoryData<string, object, Func<RequestLimits, object>> Defaults => new()
    {
        { nameof(RequestLimits.MaxFormFields), 1024, l => l.MaxFormFields },
        { nameof(RequestLimits.MaxUrlEncodedBytes), 4L * 1024 * 1024, l => l.MaxUrlEncodedBytes },
        { nameof(RequestLimits.MaxMultipartParts), 1024, l => l.MaxMultipartParts },
        { nameof(RequestLimits.MaxPartHeaderBytes), 16 * 1024, l => l.MaxPartHeaderBytes },
        { nameof(RequestLimits.MaxMultipartBytes), 128L * 1024 * 1024, l => l.MaxMultipartBytes },
        { nameof(RequestLimits.PartMemoryThreshold), 64 * 1024, l => l.PartMemoryThreshold },
        { nameof(RequestLimits.MaxFieldValueBytes), 4 * 1024 * 1024, l => l.MaxFieldValueBytes },
        { nameof(RequestLimits.MaxCookies), 100, l => l.MaxCookies },
        { nameof(RequestLimits.MaxCookieHeaderBytes), 16 * 1024, l => l.MaxCookieHeaderBytes },
    };

    public static TheoryData<string, Func<RequestLimits>> Refused => new()
    {
        { nameof(RequestLimits.MaxFormFields), () => new() { MaxFormFields = 0 } },
        { nameof(RequestLimits.MaxUrlEncodedBytes), () => new() { MaxUrlEncodedBytes = 0 } },
        { nameof(RequestLimits.MaxMultipartParts), () => new() { MaxMultipartParts = -1 } },
        { nameof(RequestLimits.MaxPartHeaderBytes), () => new() { MaxPartHeaderBytes = 0 } },
        { nameof(RequestLimits.MaxPartHeaderBytes), () => new() { MaxPartHeaderBytes = 1024 * 1024 + 1 } },
        { nameof(RequestLimits.MaxMultipartBytes), () => new() { MaxMultipartBytes = -1 } },
        { nameof(RequestLimits.PartMemoryThreshold), () => new() { PartMemoryThreshold = -1 } },
        { nameof(RequestLimits.MaxFieldValueBytes), () => new() { MaxFieldValueBytes = 0 } },
        { nameof(RequestLimits.MaxCookies), () => new() { MaxCookies = 0 } },
        { nameof(RequestLimits.MaxCookieHeaderBytes), () => RequestLimits.Default with { MaxCookieHeaderBytes = int.MinValue } },
    };

    [Theory]
    [MemberData(nameof(Defaults))]
    public void Default_is_as_documented(string name, object expected, Func<RequestLimits, object> read)
    {
        Assert.Equal(expected, read(new RequestLimits()));
        Assert.Equal(expected, read(RequestLimits.Default));
        Assert.NotNull(name);
    }

    [Theory]
    [MemberData(nameof(Refused))]
    public void Refused_when_set(string name, Func<RequestLimits> create)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(create);

        Assert.Equal(name, error.ParamName);
    }

    [Fact]
    public void The_smallest_values_are_accepted()
    {
        var limits = new RequestLimits
        {
            MaxFormFields = 1,
            MaxUrlEncodedBytes = 1,
            MaxMultipartParts = 1,
            MaxPartHeaderBytes = 1,
            MaxMultipartBytes = 1,
            PartMemoryThreshold = 0,
            MaxFieldValueBytes = 1,
            MaxCookies = 1,
            MaxCookieHeaderBytes = 1,
        };

        Assert.Equal(0, limits.PartMemoryThreshold);
        Assert.Equal(1024 * 1024, (limits with { MaxPartHeaderBytes = 1024 * 1024 }).MaxPartHeaderBytes);
    }
}
