using System.Text;
using FastCgi.Cgi;
using Xunit;

namespace FastCgi.Tests.Cgi;

public sealed class HttpEncodingTests
{
    [Fact]
    public void HtmlEncode_escapes_the_six_characters()
    {
        Assert.Equal("a&amp;b&lt;c&gt;d&quot;e&#39;f&#43;g", HttpEncoding.HtmlEncode("a&b<c>d\"e'f+g"));
    }

    [Fact]
    public void HtmlEncode_leaves_other_text_unchanged()
    {
        Assert.Equal("plain text é/€", HttpEncoding.HtmlEncode("plain text é/€"));
        Assert.Equal("", HttpEncoding.HtmlEncode(""));
        Assert.Equal("&lt;&lt;&gt;&gt;", HttpEncoding.HtmlEncode("<<>>"));
    }

    [Fact]
    public void UrlEncode_keeps_unreserved_and_turns_space_into_plus()
    {
        Assert.Equal("AZaz09-._~", HttpEncoding.UrlEncode("AZaz09-._~"));
        Assert.Equal("a+b", HttpEncoding.UrlEncode("a b"));
    }

    [Fact]
    public void UrlEncode_escapes_everything_else_as_uppercase_utf8_bytes()
    {
        Assert.Equal("%26%3D%2B%2F%3F%25%23%0D%0A", HttpEncoding.UrlEncode("&=+/?%#\r\n"));
        Assert.Equal("%C3%A9%E2%82%AC%F0%9F%98%80", HttpEncoding.UrlEncode("é€😀"));
    }

    [Fact]
    public void UrlEncode_uses_the_given_encoding()
    {
        Assert.Equal("caf%E9", HttpEncoding.UrlEncode("café", Encoding.Latin1));
    }

    [Fact]
    public void UrlDecode_turns_plus_into_space_and_escapes_into_bytes()
    {
        Assert.Equal("a b&c+d", HttpEncoding.UrlDecode("a+b%26c%2Bd"));
        Assert.Equal("é€", HttpEncoding.UrlDecode("%C3%A9%e2%82%ac"));
    }

    [Theory]
    [InlineData("%", "%")]
    [InlineData("%4", "%4")]
    [InlineData("%zz", "%zz")]
    [InlineData("100%", "100%")]
    [InlineData("a%4g%41", "a%4gA")]
    [InlineData("%%41", "%A")]
    [InlineData("%+", "% ")]
    public void UrlDecode_keeps_malformed_escapes_literally(string input, string expected)
    {
        Assert.Equal(expected, HttpEncoding.UrlDecode(input));
    }

    [Fact]
    public void UrlDecode_replaces_invalid_utf8_with_replacement_character()
    {
        Assert.Equal("a\uFFFDb", HttpEncoding.UrlDecode("a%FFb"));
    }

    [Fact]
    public void UrlDecode_uses_the_given_encoding()
    {
        Assert.Equal("café", HttpEncoding.UrlDecode("caf%E9", Encoding.Latin1));
    }

    [Fact]
    public void UrlDecode_keeps_characters_that_are_not_escapes()
    {
        Assert.Equal("Grüße €", HttpEncoding.UrlDecode("Grüße+€"));
        Assert.Equal("plain", HttpEncoding.UrlDecode("plain"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a b&c=d/e?f#g%h+i")]
    [InlineData("é€😀\r\n\t\"'<>")]
    public void UrlDecode_reverses_UrlEncode(string text)
    {
        Assert.Equal(text, HttpEncoding.UrlDecode(HttpEncoding.UrlEncode(text)));
    }
}
