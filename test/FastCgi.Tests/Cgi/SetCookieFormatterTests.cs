using FastCgi.Cgi;
using FastCgi.Cgi.Cookies;
using Xunit;

namespace FastCgi.Tests.Cgi;

public sealed class SetCookieFormatterTests
{
    [Fact]
    public void Formats_name_and_value_without_options()
    {
        Assert.Equal("sid=abc123", SetCookieFormatter.Format("sid", "abc123", null));
        Assert.Equal("sid=", SetCookieFormatter.Format("sid", "", new SetCookieOptions()));
    }

    [Fact]
    public void Formats_every_attribute_in_order()
    {
        var options = new SetCookieOptions
        {
            Expires = new DateTimeOffset(2015, 10, 21, 9, 28, 0, TimeSpan.FromHours(2)),
            MaxAge = TimeSpan.FromSeconds(3600.9),
            Domain = "example.com",
            Path = "/app",
            Secure = true,
            HttpOnly = true,
            SameSite = CookieSameSite.Lax,
            Partitioned = true,
        };

        Assert.Equal(
            "sid=v; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Max-Age=3600; Domain=example.com; Path=/app; Secure; HttpOnly; SameSite=Lax; Partitioned",
            SetCookieFormatter.Format("sid", "v", options));
    }

    [Theory]
    [InlineData(CookieSameSite.Strict, "a=b; Secure; SameSite=Strict")]
    [InlineData(CookieSameSite.Lax, "a=b; Secure; SameSite=Lax")]
    [InlineData(CookieSameSite.None, "a=b; Secure; SameSite=None")]
    [InlineData(CookieSameSite.Unspecified, "a=b; Secure")]
    public void Formats_SameSite(CookieSameSite mode, string expected)
    {
        Assert.Equal(expected, SetCookieFormatter.Format("a", "b", new SetCookieOptions { Secure = true, SameSite = mode }));
    }

    [Theory]
    [InlineData(0, "a=b; Max-Age=0")]
    [InlineData(-90, "a=b; Max-Age=-90")]
    public void Writes_zero_and_negative_max_age_as_is(int seconds, string expected)
    {
        Assert.Equal(expected, SetCookieFormatter.Format("a", "b", new SetCookieOptions { MaxAge = TimeSpan.FromSeconds(seconds) }));
    }

    [Fact]
    public void Percent_encodes_value_bytes_outside_cookie_octet()
    {
        Assert.Equal("a=a%3Bb=c%0D%0AX:%20y", SetCookieFormatter.Format("a", "a;b=c\r\nX: y", null));
        Assert.Equal("a=%22%2C%5C%25%7F%00%C3%A9%F0%9F%98%80!#+-./:<>?[]^`{}~", SetCookieFormatter.Format("a", "\",\\%\x7F\0é😀!#+-./:<>?[]^`{}~", null));
    }

    [Fact]
    public void Injection_attempt_stays_one_cookie_value()
    {
        const string Value = "a;b=c\r\nX: y";
        var header = SetCookieFormatter.Format("sid", Value, new SetCookieOptions { Path = "/" });

        Assert.Equal("sid=a%3Bb=c%0D%0AX:%20y; Path=/", header);
        Assert.DoesNotContain('\r', header);
        Assert.DoesNotContain('\n', header);
        var cookies = CookieParser.Parse(header[..header.IndexOf(';', StringComparison.Ordinal)], RequestLimits.Default);
        Assert.Single(cookies);
        Assert.Equal(Value, cookies["sid"]);
    }

    [Theory]
    [InlineData("plain")]
    [InlineData("with space; and=semicolon")]
    [InlineData("100% \"quoted\" \\ back, comma")]
    [InlineData("é€😀")]
    [InlineData("%41 is not A")]
    public void Parser_gives_the_value_back(string value)
    {
        var header = SetCookieFormatter.Format("n", value, null);

        Assert.Equal(value, CookieParser.Parse(header, RequestLimits.Default)["n"]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a b")]
    [InlineData("a;b")]
    [InlineData("a=b")]
    [InlineData("a\r\nb")]
    [InlineData("é")]
    public void Rejects_a_name_that_is_not_a_token(string name)
    {
        Assert.Throws<ArgumentException>(() => SetCookieFormatter.Format(name, "v", null));
    }

    [Theory]
    [InlineData("example.com; Secure")]
    [InlineData("example.com\r\nX: y")]
    [InlineData("a\0b")]
    [InlineData("a\u007Fb")]
    [InlineData("a\tb")]
    public void Rejects_domain_or_path_with_semicolon_or_control_character(string attribute)
    {
        Assert.Throws<ArgumentException>(() => SetCookieFormatter.Format("a", "b", new SetCookieOptions { Domain = attribute }));
        Assert.Throws<ArgumentException>(() => SetCookieFormatter.Format("a", "b", new SetCookieOptions { Path = attribute }));
    }
}
