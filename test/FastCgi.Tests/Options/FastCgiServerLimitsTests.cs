using FastCgi.Server;
using Xunit;

namespace FastCgi.Tests.Options;

/// <summary>Every default of <see cref="FastCgiServerLimits"/>, and the values it refuses when they are set.</summary>
public sealed class FastCgiServerLimitsTests
{
    public static TheoryData<string, object, Func<FastCgiServerLimits, object>> Defaults => new()
    {
        { nameof(FastCgiServerLimits.MaxConnections), 16384, l => l.MaxConnections },
        { nameof(FastCgiServerLimits.MaxConcurrentRequests), 1024, l => l.MaxConcurrentRequests },
        { nameof(FastCgiServerLimits.MaxRequestsPerConnection), 256, l => l.MaxRequestsPerConnection },
        { nameof(FastCgiServerLimits.MaxParamsBytes), 1024 * 1024, l => l.MaxParamsBytes },
        { nameof(FastCgiServerLimits.MaxBufferedInputBytes), 256 * 1024, l => l.MaxBufferedInputBytes },
        { nameof(FastCgiServerLimits.MaxParamCount), 1000, l => l.MaxParamCount },
        { nameof(FastCgiServerLimits.MaxParamLength), 256 * 1024, l => l.MaxParamLength },
        { nameof(FastCgiServerLimits.MaxRequestBodyBytes), 2L * 1024 * 1024 * 1024, l => l.MaxRequestBodyBytes },
        { nameof(FastCgiServerLimits.InputTimeout), TimeSpan.FromSeconds(30), l => l.InputTimeout },
        { nameof(FastCgiServerLimits.WriteTimeout), TimeSpan.FromSeconds(60), l => l.WriteTimeout },
    };

    public static TheoryData<string, Func<FastCgiServerLimits>> Refused => new()
    {
        { nameof(FastCgiServerLimits.MaxConnections), () => new() { MaxConnections = 0 } },
        { nameof(FastCgiServerLimits.MaxConcurrentRequests), () => new() { MaxConcurrentRequests = -1 } },
        { nameof(FastCgiServerLimits.MaxRequestsPerConnection), () => new() { MaxRequestsPerConnection = 0 } },
        { nameof(FastCgiServerLimits.MaxParamsBytes), () => new() { MaxParamsBytes = 0 } },
        { nameof(FastCgiServerLimits.MaxBufferedInputBytes), () => new() { MaxBufferedInputBytes = 0 } },
        { nameof(FastCgiServerLimits.MaxParamCount), () => new() { MaxParamCount = 0 } },
        { nameof(FastCgiServerLimits.MaxParamLength), () => new() { MaxParamLength = -5 } },
        { nameof(FastCgiServerLimits.MaxRequestBodyBytes), () => new() { MaxRequestBodyBytes = -1 } },
        { nameof(FastCgiServerLimits.InputTimeout), () => new() { InputTimeout = TimeSpan.Zero } },
        { nameof(FastCgiServerLimits.InputTimeout), () => new() { InputTimeout = Timeout.InfiniteTimeSpan } },
        { nameof(FastCgiServerLimits.WriteTimeout), () => FastCgiServerLimits.Default with { WriteTimeout = TimeSpan.FromSeconds(-1) } },
    };

    [Theory]
    [MemberData(nameof(Defaults))]
    public void Default_is_as_documented(string name, object expected, Func<FastCgiServerLimits, object> read)
    {
        Assert.Equal(expected, read(new FastCgiServerLimits()));
        Assert.Equal(expected, read(FastCgiServerLimits.Default));
        Assert.NotNull(name);
    }

    [Theory]
    [MemberData(nameof(Refused))]
    public void Refused_when_set(string name, Func<FastCgiServerLimits> create)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(create);

        Assert.Equal(name, error.ParamName);
    }

    [Fact]
    public void The_smallest_values_are_accepted()
    {
        var limits = new FastCgiServerLimits
        {
            MaxConnections = 1,
            MaxConcurrentRequests = 1,
            MaxRequestsPerConnection = 1,
            MaxParamsBytes = 1,
            MaxBufferedInputBytes = 1,
            MaxParamCount = 1,
            MaxParamLength = 1,
            MaxRequestBodyBytes = 0,
            InputTimeout = TimeSpan.FromTicks(1),
            WriteTimeout = TimeSpan.FromTicks(1),
        };

        Assert.Equal(0, limits.MaxRequestBodyBytes);
    }
}
