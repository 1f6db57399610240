using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using Xunit;

namespace FastCgi.IntegrationTests.Interop;

/// <summary>HTTP helpers of the interoperability tests: clients, streamed bodies of known content, JSON.</summary>
internal static class Http
{
    public const long HundredMegabytes = 100L * 1024 * 1024;

    public static readonly string GenericErrorPage =
        "<!DOCTYPE html>\n<html><head><title>500 Internal Server Error</title></head>\n"
        + "<body><h1>500 Internal Server Error</h1>\n<p>The server could not complete the request.</p>\n</body></html>\n";

    /// <summary>A fresh client (its own handler, so no connection is shared between tests), with room for 50 parallel requests.</summary>
    public static HttpClient Client(Uri baseUri) => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = 100,
        UseCookies = false,
        AutomaticDecompression = DecompressionMethods.None,
    })
    {
        BaseAddress = baseUri,
        Timeout = TimeSpan.FromSeconds(120),
    };

    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.Clone();
    }

    /// <summary>The value of a JSON object's string member, or null when absent.</summary>
    public static string? Text(JsonElement obj, string name) => obj.TryGetProperty(name, out var value) ? value.GetString() : null;

    public static string Sha256(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(SHA256.HashData(data));

    /// <summary>Reads a <c>big</c> response as a stream, checking every byte against the pattern; returns the length.</summary>
    public static async Task<long> ReadPatternAsync(HttpResponseMessage response)
    {
        var pattern = "0123456789abcdef"u8.ToArray();
        await using var stream = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[256 * 1024];
        long total = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            for (var i = 0; i < read; i++)
            {
                if (buffer[i] != pattern[(total + i) % 16])
                {
                    Assert.Fail($"Byte {total + i} of the big body is '{(char)buffer[i]}', not '{(char)pattern[(total + i) % 16]}'.");
                }
            }

            total += read;
        }

        return total;
    }
}

/// <summary>
/// A request body of <see cref="Length"/> deterministic pseudo-random bytes, generated while it is sent (never held
/// whole) and hashed on the way: <see cref="Sha256"/> is known once it was sent.
/// </summary>
internal sealed class GeneratedContent : HttpContent
{
    private readonly int _variant;
    private string? _sha256;

    public GeneratedContent(long length, int variant = 1)
    {
        Length = length;
        _variant = variant;
        Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
    }

    public long Length { get; }

    public string Sha256 => _sha256 ?? throw new InvalidOperationException("The body was not sent.");

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var random = new Random(_variant);
        var buffer = new byte[256 * 1024];
        for (var sent = 0L; sent < Length;)
        {
            var chunk = (int)Math.Min(buffer.Length, Length - sent);
            random.NextBytes(buffer.AsSpan(0, chunk));
            hash.AppendData(buffer, 0, chunk);
            await stream.WriteAsync(buffer.AsMemory(0, chunk));
            sent += chunk;
        }

        _sha256 = Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    protected override bool TryComputeLength(out long length)
    {
        length = Length;
        return true;
    }
}
