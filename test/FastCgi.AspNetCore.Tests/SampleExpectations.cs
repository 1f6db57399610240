using FastCgi.AspNetCore.Tests.Support;
using Xunit;

namespace FastCgi.AspNetCore.Tests;

/// <summary>What the sample answers to <see cref="SampleExchanges.All"/>, behind any web server.</summary>
internal static class SampleExpectations
{
    /// <summary>What the answers are, not only that they agree.</summary>
    public static void AssertExact(Dictionary<string, Answer> answers, bool reasonPhrases)
    {
        Assert.Equal((200, reasonPhrases ? "OK" : "", "content-type: text/plain", "Hello from ASP.NET Core\n"), Parts(answers["hello"], reasonPhrases));
        Assert.Equal("""{"message":"Hello","numbers":[1,2,3],"nested":{"ok":true}}""", answers["json"].Text);
        Assert.Equal("content-type: application/json; charset=utf-8", answers["json"].Headers);
        Assert.Equal("42\n", answers["item"].Text);
        Assert.Equal("a%2Fb\n", answers["item, encoded slash"].Text);
        Assert.Equal("café\n", answers["item, UTF-8"].Text);
        Assert.Equal("a b+c\n", answers["item, space and plus"].Text);
        Assert.Equal("7\n", answers["item, query"].Text);
        Assert.Equal((418, reasonPhrases ? "I'm a teapot" : "", "", ""), Parts(answers["status 418"], reasonPhrases));
        Assert.Equal((204, reasonPhrases ? "No Content" : "", "", ""), Parts(answers["status 204"], reasonPhrases));
        Assert.Equal((503, reasonPhrases ? "Service Unavailable" : "", "", ""), Parts(answers["status 503"], reasonPhrases));
        Assert.Equal((302, reasonPhrases ? "Found" : "", "location: /\nset-cookie: visited=yes; path=/; httponly", ""), Parts(answers["redirect"], reasonPhrases));
        Assert.Equal("""{"a":"1","b":"two","visited":"yes"}""", answers["cookies"].Text);
        Assert.Equal("{}", answers["no cookies"].Text);
        Assert.Equal("line 1\nline 2\nline 3\nline 4\nline 5\n", answers["stream 5"].Text);
        Assert.Equal(string.Concat(Enumerable.Range(1, 2000).Select(i => $"line {i}\n")), answers["stream 2000"].Text);
        Assert.Equal("""{"fields":{"name":["Zoë"],"tags":["a","b&c"]},"files":[]}""", answers["form, URL-encoded"].Text);
        Assert.Equal(
            "{\"fields\":{\"field\":[\"value one\"]},\"files\":["
            + "{\"field\":\"upload\",\"name\":\"a.bin\",\"length\":70000,\"sha256\":\"" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(SampleExchanges.FileA)) + "\"},"
            + "{\"field\":\"upload\",\"name\":\"b.txt\",\"length\":10,\"sha256\":\"" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("text file\n"u8)) + "\"}]}",
            answers["form, multipart"].Text);
        Assert.Equal(
            "{\"length\":3145745,\"sha256\":\"" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(SampleExchanges.Upload)) + "\"}",
            answers["upload 3 MiB"].Text);
        Assert.Equal("{\"length\":0,\"sha256\":\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"}", answers["upload empty"].Text);
        Assert.Equal("slept 20 ms\n", answers["slow, short"].Text);
        Assert.Equal((500, reasonPhrases ? "Internal Server Error" : "", "", ""), Parts(answers["throw"], reasonPhrases));
        Assert.Equal((404, reasonPhrases ? "Not Found" : "", "", ""), Parts(answers["unknown path"], reasonPhrases));
        Assert.Equal((405, reasonPhrases ? "Method Not Allowed" : "", "allow: GET", ""), Parts(answers["POST to a GET endpoint"], reasonPhrases));
        Assert.Equal((405, reasonPhrases ? "Method Not Allowed" : "", "allow: POST", ""), Parts(answers["PUT upload"], reasonPhrases));
        Assert.Equal((405, reasonPhrases ? "Method Not Allowed" : "", "allow: GET", ""), Parts(answers["HEAD"], reasonPhrases));
    }

    private static (int, string, string, string) Parts(Answer answer, bool reasonPhrases) => (answer.Status, reasonPhrases ? answer.Reason : "", answer.Headers, answer.Text);


    /// <summary>
    /// The /headers answers, exact: they depend on what the web server passes (nginx's FastCGI site and its
    /// reverse proxy pass the same).
    /// </summary>
    public static void AssertHeadersEndpoint(Dictionary<string, Answer> answers)
    {
        Assert.Equal(
            """{"method":"GET","scheme":"http","host":"app.test","pathBase":"","path":"/headers","queryString":"?a=1&b=%2F&c=%C3%A9","headers":{"accept-language":"fr, en;q=0.5","host":"app.test","x-custom":"one"},"remoteAddress":"127.0.0.1","user":null}""",
            answers["headers"].Text);
        Assert.Contains("\"x-multi\":\"a, b\"", answers["headers, repeated"].Text, StringComparison.Ordinal);
        Assert.Contains("\"authorization\":\"Bearer token\"", answers["headers, repeated"].Text, StringComparison.Ordinal);
    }
}
