using System.Text;

namespace FastCgi.AspNetCore.Tests.Support;

/// <summary>One request the comparison sends through each path, and what came back.</summary>
internal sealed record Exchange(string Name, HttpMethod Method, string Target, Func<HttpContent?>? Body = null, IReadOnlyList<(string Name, string Value)>? Headers = null)
{
    /// <summary>The Host every request names, so the answers do not differ by the web server's port.</summary>
    public const string Host = "app.test";

    /// <summary>Response headers that belong to the hop, not the application: how nginx framed and dated it.</summary>
    private static readonly HashSet<string> HopHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Date", "Server", "Connection", "Keep-Alive", "Transfer-Encoding", "Content-Length",
    };

    public override string ToString() => Name;

    public async Task<Answer> SendAsync(HttpClient client)
    {
        using var request = new HttpRequestMessage(Method, Target) { Content = Body?.Invoke() };
        request.Headers.Host = Host;
        foreach (var (name, value) in Headers ?? [])
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead);
        var body = await response.Content.ReadAsByteArrayAsync();
        return new Answer((int)response.StatusCode, response.ReasonPhrase ?? "", HeaderLines(response), body);
    }

    /// <summary>Every header of the application's, one <c>name: value</c> line each, in name order.</summary>
    private static string HeaderLines(HttpResponseMessage response)
    {
        IEnumerable<KeyValuePair<string, IEnumerable<string>>> all = response.Headers.Concat(response.Content.Headers);
        return string.Join("\n", all
            .Where(header => !HopHeaders.Contains(header.Key))
            .SelectMany(header => header.Value.Select(value => header.Key.ToLowerInvariant() + ": " + value))
            .Order(StringComparer.Ordinal));
    }
}

/// <summary>What a request got back: status, reason, the application's headers, the body's bytes.</summary>
internal sealed record Answer(int Status, string Reason, string Headers, byte[] Body)
{
    public string Text => Encoding.UTF8.GetString(Body);

    public bool SameAs(Answer other) =>
        Status == other.Status && Reason == other.Reason && Headers == other.Headers && Body.AsSpan().SequenceEqual(other.Body);

    public override string ToString() => $"{Status} {Reason}\n{Headers}\n\n{(Body.Length > 2000 ? Body.Length + " bytes" : Text)}";
}

/// <summary>The requests of the comparison: every endpoint of the sample, methods, encoded paths, queries, headers, bodies, cookies.</summary>
internal static class SampleExchanges
{
    public static readonly byte[] Upload = RandomBytes(3 * 1024 * 1024 + 17, seed: 11);

    public static readonly byte[] FileA = RandomBytes(70_000, seed: 1);

    public static IReadOnlyList<Exchange> All { get; } =
    [
        new("hello", HttpMethod.Get, "/"),
        new("json", HttpMethod.Get, "/json"),
        new("json with a query", HttpMethod.Get, "/json?x=1&y=%20z"),
        new("headers", HttpMethod.Get, "/headers?a=1&b=%2F&c=%C3%A9", Headers: [("X-Custom", "one"), ("Accept-Language", "fr, en;q=0.5")]),
        new("headers, repeated", HttpMethod.Get, "/headers", Headers: [("X-Multi", "a"), ("X-Multi", "b"), ("Authorization", "Bearer token")]),
        new("item", HttpMethod.Get, "/items/42"),
        new("item, encoded slash", HttpMethod.Get, "/items/a%2Fb"),
        new("item, UTF-8", HttpMethod.Get, "/items/caf%C3%A9"),
        new("item, space and plus", HttpMethod.Get, "/items/a%20b+c"),
        new("item, query", HttpMethod.Get, "/items/7?q=%26x"),
        new("status 200", HttpMethod.Get, "/status/200"),
        new("status 201", HttpMethod.Get, "/status/201"),
        new("status 204", HttpMethod.Get, "/status/204"),
        new("status 404", HttpMethod.Get, "/status/404"),
        new("status 418", HttpMethod.Get, "/status/418"),
        new("status 503", HttpMethod.Get, "/status/503"),
        new("redirect", HttpMethod.Get, "/redirect"),
        new("cookies", HttpMethod.Get, "/cookies", Headers: [("Cookie", "a=1; b=two; visited=yes")]),
        new("no cookies", HttpMethod.Get, "/cookies"),
        new("stream 5", HttpMethod.Get, "/stream?n=5"),
        new("stream 2000", HttpMethod.Get, "/stream?n=2000"),
        new("form, URL-encoded", HttpMethod.Post, "/form", () => new FormUrlEncodedContent([new("name", "Zoë"), new("tags", "a"), new("tags", "b&c")])),
        new("form, multipart", HttpMethod.Post, "/form", Multipart),
        new("upload 3 MiB", HttpMethod.Post, "/upload", () => new ByteArrayContent(Upload)),
        new("upload empty", HttpMethod.Post, "/upload", () => new ByteArrayContent([])),
        new("slow, short", HttpMethod.Get, "/slow?ms=20"),
        new("throw", HttpMethod.Get, "/throw"),
        new("unknown path", HttpMethod.Get, "/nothing/here"),
        new("POST to a GET endpoint", HttpMethod.Post, "/", () => new StringContent("x")),
        new("PUT upload", HttpMethod.Put, "/upload", () => new ByteArrayContent([1, 2, 3])),
        new("HEAD", HttpMethod.Head, "/json"),
    ];

    private static MultipartFormDataContent Multipart()
    {
        var content = new MultipartFormDataContent("boundary-1234")
        {
            { new StringContent("value one"), "field" },
            { new ByteArrayContent(FileA), "upload", "a.bin" },
            { new ByteArrayContent("text file\n"u8.ToArray()), "upload", "b.txt" },
        };
        return content;
    }

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
