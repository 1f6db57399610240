using System.IO.Compression;
using System.Text;
using Xunit;
using FastCgi.Testing;
using FastCgi.Connection;

namespace FastCgi.Tests.Cgi;

public sealed class CgiRequestTests
{
    private sealed class Hello : Handler
    {
        public override void Process(Request request)
        {
            request.SetHeader("Content-Type", "text/plain");
            request.Write("Hello, world!\n");
        }
    }

    private sealed class EchoBody : Handler
    {
        public override async ValueTask ProcessAsync(Request request, CancellationToken cancellationToken)
        {
            request.SetHeader("Content-Type", "application/octet-stream");
            using var copy = new MemoryStream();
            await request.Body.CopyToAsync(copy, cancellationToken);
            await request.WriteAsync(copy.ToArray(), cancellationToken);
        }
    }

    private sealed class Failing : Handler
    {
        public override void Process(Request request)
        {
            request.Error("about to fail");
            throw new InvalidOperationException("boom");
        }
    }

    /// <summary>An output pipe whose reader has gone away.</summary>
    private sealed class BrokenPipe : MemoryStream
    {
        public override void Write(byte[] buffer, int offset, int count) => throw new IOException("Broken pipe");

        public override void Write(ReadOnlySpan<byte> buffer) => throw new IOException("Broken pipe");

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.FromException(new IOException("Broken pipe"));

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromException(new IOException("Broken pipe"));
    }

    private static Dictionary<string, string> Env(params (string Name, string Value)[] variables) =>
        CgiVariables.Of([("GATEWAY_INTERFACE", "CGI/1.1"), .. variables]);

    [Fact]
    public async Task A_hello_handler_writes_exactly_its_response_to_stdout()
    {
        using var stdin = new MemoryStream();
        using var stdout = new MemoryStream();
        using var stderr = new MemoryStream();
        using var request = new CgiRequest(Env(), stdin, stdout, stderr);

        await request.ProcessAsync(new Hello());

        Assert.Equal("Content-Type: text/plain\r\n\r\nHello, world!\n"u8.ToArray(), stdout.ToArray());
        Assert.Empty(stderr.ToArray());
        Assert.True(request.IsClosed);
        Assert.True(stdout.CanWrite);
    }

    [Fact]
    public async Task The_environ_is_the_one_given()
    {
        var environ = Env(("QUERY_STRING", "a=1"));
        using var request = new CgiRequest(environ, new MemoryStream(), new MemoryStream(), new MemoryStream());

        Assert.Same(environ, request.Environ);
        Assert.Equal("a=1", request.GetEnvironment("QUERY_STRING"));
        Assert.Null(request.GetEnvironment("HTTP_COOKIE"));
        await request.CloseAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task The_body_is_limited_to_CONTENT_LENGTH()
    {
        using var stdin = new MemoryStream("abcdefXYZ"u8.ToArray());
        using var stdout = new MemoryStream();
        using var request = new CgiRequest(Env(("CONTENT_LENGTH", "6")), stdin, stdout, new MemoryStream());

        Assert.Equal(6, request.Body.Length);
        await request.ProcessAsync(new EchoBody());

        Assert.Equal("Content-Type: application/octet-stream\r\n\r\nabcdef"u8.ToArray(), stdout.ToArray());
        Assert.Equal(6, stdin.Position);
    }

    [Fact]
    public void The_body_can_be_read_synchronously_too()
    {
        using var stdin = new MemoryStream("abcdefXYZ"u8.ToArray());
        using var request = new CgiRequest(Env(("CONTENT_LENGTH", "4")), stdin, new MemoryStream(), new MemoryStream());
        var buffer = new byte[16];

        var first = request.Body.Read(buffer, 0, 3);
        var second = request.Body.Read(buffer, 3, 13);
        var third = request.Body.Read(buffer, 4, 12);

        Assert.Equal((3, 1, 0), (first, second, third));
        Assert.Equal("abcd"u8.ToArray(), buffer[..4]);
        Assert.Equal(4, request.Body.Position);
        Assert.False(request.Body.CanWrite);
    }

    [Fact]
    public void A_CONTENT_LENGTH_of_zero_means_an_empty_body()
    {
        using var stdin = new MemoryStream("abc"u8.ToArray());
        using var request = new CgiRequest(Env(("CONTENT_LENGTH", "0")), stdin, new MemoryStream(), new MemoryStream());

        Assert.Equal(-1, request.Body.ReadByte());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("junk")]
    [InlineData("-1")]
    public void Without_a_valid_CONTENT_LENGTH_the_body_is_stdin(string? contentLength)
    {
        using var stdin = new MemoryStream("abc"u8.ToArray());
        var environ = contentLength is null ? Env() : Env(("CONTENT_LENGTH", contentLength));
        using var request = new CgiRequest(environ, stdin, new MemoryStream(), new MemoryStream());

        Assert.Same(stdin, request.Body);
    }

    [Fact]
    public async Task The_error_log_goes_to_stderr_and_the_client_gets_the_error_page()
    {
        using var stdout = new MemoryStream();
        using var stderr = new MemoryStream();
        using var request = new CgiRequest(Env(), new MemoryStream(), stdout, stderr);

        await request.ProcessAsync(new Failing());

        var log = Encoding.UTF8.GetString(stderr.ToArray());
        Assert.StartsWith("about to fail\nSystem.InvalidOperationException: boom", log, StringComparison.Ordinal);
        Assert.EndsWith("\n", log, StringComparison.Ordinal);
        Assert.StartsWith(
            "Status: 500 Internal Server Error\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<!DOCTYPE html>",
            Encoding.UTF8.GetString(stdout.ToArray()),
            StringComparison.Ordinal);
        Assert.DoesNotContain("boom", Encoding.UTF8.GetString(stdout.ToArray()), StringComparison.Ordinal);
    }

    [Fact]
    public void Error_writes_utf8_to_stderr_at_once()
    {
        using var stderr = new MemoryStream();
        using var request = new CgiRequest(Env(), new MemoryStream(), new MemoryStream(), stderr);

        request.Error("größe");

        Assert.Equal("größe\n"u8.ToArray(), stderr.ToArray());
    }

    [Fact]
    public void Unbuffered_output_reaches_stdout_at_each_write()
    {
        using var stdout = new MemoryStream();
        using var request = new CgiRequest(Env(), new MemoryStream(), stdout, new MemoryStream());
        request.SetHeader("Content-Type", "text/plain");
        request.Buffering = false;

        request.Write("one");
        Assert.Equal("Content-Type: text/plain\r\n\r\none"u8.ToArray(), stdout.ToArray());
        request.Write("two");
        Assert.Equal("Content-Type: text/plain\r\n\r\nonetwo"u8.ToArray(), stdout.ToArray());
    }

    [Fact]
    public void Buffered_output_waits_for_Close()
    {
        using var stdout = new MemoryStream();
        using var request = new CgiRequest(Env(), new MemoryStream(), stdout, new MemoryStream());

        request.Write("x");
        Assert.Equal(0, stdout.Length);

        request.Close();
        Assert.Equal("Content-Type: text/html; charset=utf-8\r\n\r\nx"u8.ToArray(), stdout.ToArray());
    }

    [Fact]
    public async Task A_broken_stdout_aborts_the_request_without_throwing()
    {
        using var stderr = new MemoryStream();
        using var request = new CgiRequest(Env(), new MemoryStream(), new BrokenPipe(), stderr);

        await request.ProcessAsync(new Hello());

        Assert.Equal(AbortReason.ConnectionLost, request.Aborted);
        Assert.Empty(stderr.ToArray());
    }

    [Fact]
    public void A_CgiRequest_starts_with_gzip_off()
    {
        using var request = new CgiRequest(Env(), new MemoryStream(), new MemoryStream(), new MemoryStream());

        Assert.Equal(0, request.GZipLevel);
    }

    [Fact]
    public async Task A_GZipCgiRequest_starts_at_level_6_and_compresses_when_accepted()
    {
        using var stdout = new MemoryStream();
        using var request = new GZipCgiRequest(Env(("HTTP_ACCEPT_ENCODING", "gzip")), new MemoryStream(), stdout, new MemoryStream());
        Assert.Equal(6, request.GZipLevel);

        await request.ProcessAsync(new Hello());

        var output = stdout.ToArray();
        const string head = "Content-Type: text/plain\r\nVary: Accept-Encoding\r\nContent-Encoding: gzip\r\n\r\n";
        Assert.Equal(head, Encoding.ASCII.GetString(output, 0, head.Length));
        using var gzip = new GZipStream(new MemoryStream(output[head.Length..]), CompressionMode.Decompress);
        using var text = new StreamReader(gzip, Encoding.UTF8);
        Assert.Equal("Hello, world!\n", await text.ReadToEndAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_GZipCgiRequest_sends_plain_output_when_gzip_is_not_accepted()
    {
        using var stdout = new MemoryStream();
        using var request = new GZipCgiRequest(Env(), new MemoryStream(), stdout, new MemoryStream());

        await request.ProcessAsync(new Hello());

        Assert.Equal("Content-Type: text/plain\r\nVary: Accept-Encoding\r\n\r\nHello, world!\n"u8.ToArray(), stdout.ToArray());
    }

    [Fact]
    public async Task Null_arguments_are_rejected()
    {
        using var s = new MemoryStream();
        Assert.Throws<ArgumentNullException>(() => new CgiRequest(null!, s, s, s));
        Assert.Throws<ArgumentNullException>(() => new CgiRequest(Env(), null!, s, s));
        Assert.Throws<ArgumentNullException>(() => new CgiRequest(Env(), s, null!, s));
        Assert.Throws<ArgumentNullException>(() => new CgiRequest(Env(), s, s, null!));
        using var request = new CgiRequest(Env(), s, new MemoryStream(), s);
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await request.ProcessAsync(null!));
        Assert.Throws<ArgumentNullException>(() => CgiRequest.Run(null!));
    }
}
