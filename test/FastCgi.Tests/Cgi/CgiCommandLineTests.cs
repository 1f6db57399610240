using FastCgi.Cgi;
using Xunit;

namespace FastCgi.Tests.Cgi;

/// <summary>The search words of RFC 3875 section 4.4 taken off a CGI program's command line, as Apache passes them.</summary>
public sealed class CgiCommandLineTests
{
    [Theory]
    [InlineData("--listen 0.0.0.0:9000", "--listen+0.0.0.0:9000", "")]
    [InlineData("--gzip --listen 0.0.0.0:9000", "--listen+0.0.0.0:9000", "--gzip")]
    [InlineData("--help", "--help", "")]
    [InlineData("--help", "%2D%2Dhelp", "")]
    [InlineData("a+b c", "a%2Bb+c", "")]
    [InlineData(@"a\;b \$HOME", "a%3Bb+%24HOME", "")]
    [InlineData("--gzip", "", "--gzip")]
    [InlineData("--gzip", "a=1", "--gzip")]
    [InlineData("--gzip --max-requests 5", "5", "--gzip --max-requests")]
    [InlineData("--gzip", "other", "--gzip")]
    [InlineData("one", "one+two", "one")]
    [InlineData("", "words", "")]
    public void The_words_of_a_query_without_an_equals_sign_go_when_they_end_the_command_line(string args, string query, string left)
    {
        Assert.Equal(Split(left), CgiCommandLine.WithoutSearchWords(Split(args), query));
    }

    [Fact]
    public void Without_a_query_string_the_command_line_stays()
    {
        Assert.Equal(["--gzip"], CgiCommandLine.WithoutSearchWords(["--gzip"], null));
    }

    private static string[] Split(string text) => text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}
