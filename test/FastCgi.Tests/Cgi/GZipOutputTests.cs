using System.IO.Compression;
using System.Text;
using FastCgi.Tests.Support;
using Xunit;
using FastCgi.Testing;
using FastCgi.Connection;

namespace FastCgi.Tests.Cgi;

public sealed class GZipOutputTests
{
    private const string GZipHead = "Content-Type: text/plain\r\nVary: Accept-Encoding\r\nContent-Encoding: gzip\r\n";
    private const string PlainHead = "Content-Type: text/plain\r\nVary: Accept-Encoding\r\n";

    private static RecordingRequest GZipRequest(string? acceptEncoding = "gzip", string method = "GET", int level = 6)
    {
        var environ = CgiVariables.Of(("REQUEST_METHOD", method));
        if (acceptEncoding is not null)
        {
            environ["HTTP_ACCEPT_ENCODING"] = acceptEncoding;
        }

        var request = new RecordingRequest(environ);
        request.SetHeader("Content-Type", "text/plain");
        request.GZipLevel = level;
        return request;
    }

    private static byte[] Gunzip(byte[] compressed)
    {
        using var gzip = new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress);
        using var result = new MemoryStream();
        gzip.CopyTo(result);
        return result.ToArray();
    }

    /// <summary>Decompresses exactly <paramref name="length"/> bytes from a gzip stream that may not be finished yet.</summary>
    private static byte[] GunzipPrefix(byte[] compressed, int length)
    {
        using var gzip = new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress);
        var result = new byte[length];
        gzip.ReadExactly(result);
        return result;
    }

    private static byte[] SomeData(int length)
    {
        var data = new byte[length];
        new Random(42).NextBytes(data.AsSpan(0, length / 2));
        Encoding.ASCII.GetBytes(new string('z', length - (length / 2)), data.AsSpan(length / 2));
        return data;
    }

    [Theory]
    [InlineData("gzip", true)]
    [InlineData("gzip;q=0", false)]
    [InlineData("gzip; q=0.000", false)]
    [InlineData("gzip;q=1.0", true)]
    [InlineData("deflate, gzip;q=0.5", true)]
    [InlineData("deflate, br", false)]
    [InlineData("identity", false)]
    [InlineData("*", true)]
    [InlineData("*;q=0", false)]
    [InlineData("gzip;q=0, *", false)]
    [InlineData("*, gzip;q=0", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    [InlineData("x-gzip", true)]
    [InlineData("GZIP", true)]
    [InlineData("gzip;Q=0", false)]
    [InlineData("gzip;q=bogus", false)]
    public void Accept_encoding_decides_whether_the_body_is_compressed(string? acceptEncoding, bool compressed)
    {
        using var request = GZipRequest(acceptEncoding);
        request.Write("hello");

        request.Close();

        var (head, body) = request.SplitOutput();
        Assert.Equal(compressed ? GZipHead : PlainHead, head);
        Assert.Equal("hello"u8.ToArray(), compressed ? Gunzip(body) : body);
    }

    [Fact]
    public void Vary_is_appended_to_an_existing_vary_header_once()
    {
        using var request = GZipRequest();
        request.SetHeader("Vary", "Cookie");

        request.Close();

        Assert.Equal("Content-Type: text/plain\r\nVary: Cookie, Accept-Encoding\r\nContent-Encoding: gzip\r\n", request.SplitOutput().Head);
    }

    [Fact]
    public void Vary_already_naming_accept_encoding_is_left_alone()
    {
        using var request = GZipRequest(acceptEncoding: null);
        request.SetHeader("Vary", "accept-encoding, Cookie");

        request.Close();

        Assert.Equal("Content-Type: text/plain\r\nVary: accept-encoding, Cookie\r\n", request.SplitOutput().Head);
    }

    [Fact]
    public void Content_length_is_removed_when_compressing()
    {
        using var request = GZipRequest();
        request.SetHeader("Content-Length", "5");
        request.Write("hello");

        request.Close();

        var (head, body) = request.SplitOutput();
        Assert.Equal(GZipHead, head);
        Assert.Equal("hello"u8.ToArray(), Gunzip(body));
    }

    [Fact]
    public void Content_length_is_kept_when_not_compressing()
    {
        using var request = GZipRequest(acceptEncoding: "identity");
        request.SetHeader("Content-Length", "5");
        request.Write("hello");

        request.Close();

        Assert.Equal("Content-Type: text/plain\r\nContent-Length: 5\r\nVary: Accept-Encoding\r\n\r\nhello", request.OutputText);
    }

    [Theory]
    [InlineData(204)]
    [InlineData(304)]
    [InlineData(101)]
    public void Statuses_without_a_body_are_not_compressed(int status)
    {
        using var request = GZipRequest();
        request.SetStatus(status);

        request.Close();

        Assert.Equal($"Status: {request.GetHeader("Status")}\r\nContent-Type: text/plain\r\nVary: Accept-Encoding\r\n\r\n", request.OutputText);
    }

    [Fact]
    public void A_head_request_is_not_compressed()
    {
        using var request = GZipRequest(method: "HEAD");

        request.Close();

        Assert.Equal(PlainHead + "\r\n", request.OutputText);
    }

    [Fact]
    public void A_body_the_handler_already_encoded_is_not_compressed_again()
    {
        using var request = GZipRequest();
        request.SetHeader("Content-Encoding", "br");
        request.Write("brotli bytes");

        request.Close();

        Assert.Equal("Content-Type: text/plain\r\nContent-Encoding: br\r\nVary: Accept-Encoding\r\n\r\nbrotli bytes", request.OutputText);
    }

    [Fact]
    public void Level_zero_means_no_gzip_and_no_vary()
    {
        using var request = GZipRequest(level: 0);
        request.Write("hello");

        request.Close();

        Assert.Equal("Content-Type: text/plain\r\n\r\nhello", request.OutputText);
        Assert.Equal(0, new RecordingRequest().GZipLevel);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(10)]
    public void A_level_out_of_range_is_rejected(int level)
    {
        using var request = new RecordingRequest();

        Assert.Throws<ArgumentOutOfRangeException>(() => request.GZipLevel = level);
        Assert.Equal(0, request.GZipLevel);
    }

    [Fact]
    public void The_level_cannot_change_after_the_headers_were_sent()
    {
        using var request = GZipRequest();
        request.Flush();

        Assert.Throws<SequencingException>(() => request.GZipLevel = 0);
        Assert.Equal(6, request.GZipLevel);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(6)]
    [InlineData(9)]
    public void The_body_round_trips_exactly(int level)
    {
        using var request = GZipRequest(level: level);
        var data = SomeData(100_000);

        request.Write(data.AsSpan(0, 30_000));
        request.OutputStream.Write(data, 30_000, 30_000);
        request.Write(data.AsSpan(60_000));
        request.Close();

        var (head, body) = request.SplitOutput();
        Assert.Equal(GZipHead, head);
        Assert.Equal(data, Gunzip(body));
        Assert.True(body.Length < data.Length);
        Assert.Equal("complete", request.Log[^1]);
    }

    [Fact]
    public void A_flush_mid_way_yields_bytes_that_already_decompress_to_the_data_so_far()
    {
        using var request = GZipRequest();
        var first = SomeData(5000);
        request.Write(first);

        request.Flush();
        Assert.Equal("flush", request.Log[^1]);
        var soFar = request.SplitOutput().Body;
        Assert.Equal(first, GunzipPrefix(soFar, first.Length));

        request.Write("second part");
        request.Close();
        Assert.Equal([.. first, .. "second part"u8], Gunzip(request.SplitOutput().Body));
    }

    [Fact]
    public void Unbuffered_writes_are_each_sync_flushed()
    {
        using var request = GZipRequest();
        request.Buffering = false;

        request.Write("one ");
        Assert.Equal("one "u8.ToArray(), GunzipPrefix(request.SplitOutput().Body, 4));
        request.Write("two");
        Assert.Equal("one two"u8.ToArray(), GunzipPrefix(request.SplitOutput().Body, 7));

        request.Close();
        Assert.Equal("one two"u8.ToArray(), Gunzip(request.SplitOutput().Body));
        Assert.Equal(7, request.Tell());
    }

    [Fact]
    public async Task The_async_path_compresses_the_same_way()
    {
        using var request = GZipRequest();
        var data = SomeData(20_000);
        await request.WriteAsync(data.AsMemory(0, 10_000), TestContext.Current.CancellationToken);
        await request.FlushAsync(TestContext.Current.CancellationToken);
        Assert.Equal(data[..10_000], GunzipPrefix(request.SplitOutput().Body, 10_000));
        request.Buffering = false;

        await request.WriteAsync(data.AsMemory(10_000), TestContext.Current.CancellationToken);
        await request.CloseAsync(TestContext.Current.CancellationToken);

        var (head, body) = request.SplitOutput();
        Assert.Equal(GZipHead, head);
        Assert.Equal(data, Gunzip(body));
        Assert.True(request.AsyncCalls > 0);
    }

    [Fact]
    public void An_empty_compressed_body_is_still_a_valid_gzip_stream()
    {
        using var request = GZipRequest();

        request.Close();

        var (head, body) = request.SplitOutput();
        Assert.Equal(GZipHead, head);
        Assert.Equal([0x1F, 0x8B], body[..2]);
        Assert.Empty(Gunzip(body));
    }

    [Fact]
    public async Task An_empty_compressed_body_closed_asynchronously_is_still_a_valid_gzip_stream()
    {
        using var request = GZipRequest();

        await request.CloseAsync(TestContext.Current.CancellationToken);

        var (_, body) = request.SplitOutput();
        Assert.Equal([0x1F, 0x8B], body[..2]);
        Assert.Empty(Gunzip(body));
    }

    [Fact]
    public void The_error_page_is_compressed_too()
    {
        using var request = GZipRequest();
        request.Write("partial");

        request.Traceback(new InvalidOperationException("boom"));
        request.Close();

        var (head, body) = request.SplitOutput();
        Assert.Equal("Status: 500 Internal Server Error\r\nContent-Type: text/html; charset=utf-8\r\nVary: Accept-Encoding\r\nContent-Encoding: gzip\r\n", head);
        Assert.StartsWith("<!DOCTYPE html>", Encoding.UTF8.GetString(Gunzip(body)), StringComparison.Ordinal);
    }

    [Fact]
    public void A_local_redirect_is_not_compressed()
    {
        using var request = GZipRequest();
        request.SetHeader("Location", "/there");

        request.Close();

        Assert.Equal("Location: /there\r\n\r\n", request.OutputText);
    }

    [Fact]
    public void After_the_connection_broke_disposing_writes_nothing_more()
    {
        var request = GZipRequest();
        request.Buffering = false;
        request.Write("sent");
        request.FailWrites = true;
        request.Write("lost");
        Assert.Equal(AbortReason.ConnectionLost, request.Aborted);
        request.FailWrites = false;
        request.Close();
        var log = request.Log.Count;

        request.Dispose();

        Assert.Equal(log, request.Log.Count);
    }

    [Fact]
    public void Disposing_a_broken_gzip_request_does_not_throw()
    {
        var request = GZipRequest();
        request.Buffering = false;
        request.Write("sent");
        request.FailWrites = true;
        request.Write("lost");
        request.Close();

        request.Dispose();

        Assert.Equal(AbortReason.ConnectionLost, request.Aborted);
    }

    [Fact]
    public void Disposing_an_unclosed_gzip_request_writes_nothing_more()
    {
        var request = GZipRequest();
        request.Buffering = false;
        request.Write("sent");
        var log = request.Log.Count;

        request.Dispose();

        Assert.Equal(log, request.Log.Count);
    }
}
