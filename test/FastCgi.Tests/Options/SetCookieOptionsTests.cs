using FastCgi.Cgi;
using Xunit;

namespace FastCgi.Tests.Options;

/// <summary>Every default of <see cref="SetCookieOptions"/>, and the values it refuses when they are set.</summary>
public sealed class SetCookieOptionsTests
{
    public static TheoryData<string, object?, Func<SetCookieOptions, object?>> Defaults => new()
    {
        { nameof(SetCookieOptions.Expires), null, o => o.Expires },
        { nameof(SetCookieOptions.MaxAge), null, o => o.MaxAge },
        { nameof(SetCookieOptions.Domain), null, o => o.Domain },
        { nameof(SetCookieOptions.Path), null, o => o.Path },
        { nameof(SetCookieOptions.Secure), false, o => o.Secure },
        { nameof(SetCookieOptions.HttpOnly), false, o => o.HttpOnly },
        { nameof(SetCookieOptions.SameSite), CookieSameSite.Unspecified, o => o.SameSite },
        { nameof(SetCookieOptions.Partitioned), false, o => o.Partitioned },
    };

    public static TheoryData<string, Type, Func<SetCookieOptions>> Refused => new()
    {
        { nameof(SetCookieOptions.Domain), typeof(ArgumentException), () => new() { Domain = "a.com; Secure" } },
        { nameof(SetCookieOptions.Domain), typeof(ArgumentException), () => new() { Domain = "a.com\r\nX: y" } },
        { nameof(SetCookieOptions.Path), typeof(ArgumentException), () => new() { Path = "/;HttpOnly" } },
        { nameof(SetCookieOptions.Path), typeof(ArgumentException), () => new() { Path = "/\u0085" } },
        { nameof(SetCookieOptions.SameSite), typeof(ArgumentOutOfRangeException), () => new() { SameSite = (CookieSameSite)9 } },
    };

    [Theory]
    [MemberData(nameof(Defaults))]
    public void Default_is_as_documented(string name, object? expected, Func<SetCookieOptions, object?> read)
    {
        Assert.Equal(expected, read(new SetCookieOptions()));
        Assert.NotNull(name);
    }

    [Theory]
    [MemberData(nameof(Refused))]
    public void Refused_when_set(string name, Type exception, Func<SetCookieOptions> create)
    {
        var error = Assert.Throws(exception, create);

        Assert.Equal(name, ((ArgumentException)error).ParamName);
    }

    [Fact]
    public void A_zero_or_negative_max_age_is_accepted_because_it_deletes_the_cookie()
    {
        Assert.Equal(TimeSpan.FromSeconds(-1), new SetCookieOptions { MaxAge = TimeSpan.FromSeconds(-1) }.MaxAge);
    }
}
