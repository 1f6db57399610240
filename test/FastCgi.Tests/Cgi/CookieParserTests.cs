using FastCgi.Cgi;
using FastCgi.Cgi.Cookies;
using Xunit;

namespace FastCgi.Tests.Cgi;

public sealed class CookieParserTests
{
    [Fact]
    public void Parses_name_value_pairs()
    {
        var cookies = CookieParser.Parse("a=1; b=2;c=3 ;  d = 4 ", RequestLimits.Default);

        Assert.Equal(4, cookies.Count);
        Assert.Equal("1", cookies["a"]);
        Assert.Equal("2", cookies["b"]);
        Assert.Equal("3", cookies["c"]);
        Assert.Equal("4", cookies["d"]);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void No_header_gives_no_cookies(string? header)
    {
        Assert.Empty(CookieParser.Parse(header, RequestLimits.Default));
    }

    [Fact]
    public void Removes_surrounding_double_quotes()
    {
        var cookies = CookieParser.Parse("a=\"x y\"; b=\"\"; c=\"half", RequestLimits.Default);

        Assert.Equal("x y", cookies["a"]);
        Assert.Equal("", cookies["b"]);
        Assert.Equal("\"half", cookies["c"]);
    }

    [Fact]
    public void Percent_decodes_values_but_keeps_plus()
    {
        var cookies = CookieParser.Parse("a=%3B%20b%C3%A9; b=1+2; c=%zz%4; d=\"%22q%22\"", RequestLimits.Default);

        Assert.Equal("; bé", cookies["a"]);
        Assert.Equal("1+2", cookies["b"]);
        Assert.Equal("%zz%4", cookies["c"]);
        Assert.Equal("\"q\"", cookies["d"]);
    }

    [Fact]
    public void Ignores_pairs_without_equals_sign()
    {
        var cookies = CookieParser.Parse("flag; a=1;; ;b=", RequestLimits.Default);

        Assert.Equal(2, cookies.Count);
        Assert.Equal("1", cookies["a"]);
        Assert.Equal("", cookies["b"]);
    }

    [Fact]
    public void First_cookie_of_a_name_wins_and_names_are_case_sensitive()
    {
        var cookies = CookieParser.Parse("id=first; ID=upper; id=second", RequestLimits.Default);

        Assert.Equal(2, cookies.Count);
        Assert.Equal("first", cookies["id"]);
        Assert.Equal("upper", cookies["ID"]);
    }

    [Fact]
    public void Value_may_hold_equals_signs()
    {
        Assert.Equal("x=y==", CookieParser.Parse("t=x=y==", RequestLimits.Default)["t"]);
    }

    [Fact]
    public void Header_at_byte_limit_is_accepted()
    {
        var limits = RequestLimits.Default with { MaxCookieHeaderBytes = 10 };

        Assert.Equal("12345678", CookieParser.Parse("a=12345678", limits)["a"]);
        Assert.Equal("1234é", CookieParser.Parse("a=1234é", limits with { MaxCookieHeaderBytes = 8 })["a"]);
    }

    [Fact]
    public void Header_over_byte_limit_is_rejected_with_431()
    {
        var limits = RequestLimits.Default with { MaxCookieHeaderBytes = 10 };

        var ascii = Assert.Throws<RequestRejectedException>(() => CookieParser.Parse("a=123456789", limits));
        var utf8 = Assert.Throws<RequestRejectedException>(() => CookieParser.Parse("a=1234é", limits with { MaxCookieHeaderBytes = 7 }));

        Assert.Equal(431, ascii.StatusCode);
        Assert.Contains("MaxCookieHeaderBytes", ascii.Message, StringComparison.Ordinal);
        Assert.Equal(431, utf8.StatusCode);
    }

    [Fact]
    public void Cookie_count_at_limit_is_accepted()
    {
        var limits = RequestLimits.Default with { MaxCookies = 3 };

        Assert.Equal(2, CookieParser.Parse("a=1; b=2; a=3; flag", limits).Count);
    }

    [Fact]
    public void Cookie_count_over_limit_is_rejected_with_431()
    {
        var limits = RequestLimits.Default with { MaxCookies = 3 };

        var error = Assert.Throws<RequestRejectedException>(() => CookieParser.Parse("a=1; b=2; c=3; d=4", limits));

        Assert.Equal(431, error.StatusCode);
        Assert.Contains("MaxCookies", error.Message, StringComparison.Ordinal);
    }
}
