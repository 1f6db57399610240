using System.Buffers;
using System.Text;
using FastCgi.Cgi;
using FastCgi.Connection;
using FastCgi.Tests.Support;
using Xunit;

namespace FastCgi.Tests.Cgi;

public sealed class RequestOutputTests
{
    private const string PlainHead = "Content-Type: text/plain\r\n\r\n";

    private const string ErrorPage500 =
        "<!DOCTYPE html>\n<html><head><title>500 Internal Server Error</title></head>\n"
        + "<body><h1>500 Internal Server Error</h1>\n<p>The server could not complete the request.</p>\n</body></html>\n";

    private static RecordingRequest PlainRequest(IReadOnlyDictionary<string, string>? environ = null)
    {
        var request = new RecordingRequest(environ);
        request.SetHeader("Content-Type", "text/plain");
        return request;
    }

    [Fact]
    public void Buffered_output_reaches_the_transport_only_on_Flush()
    {
        using var request = PlainRequest();

        request.Write("hello ");
        request.Write("world"u8);
        Assert.Empty(request.Log);
        Assert.False(request.HeadersSent);

        request.Flush();

        Assert.Equal(["write:" + PlainHead + "hello world", "flush"], request.Log);
        Assert.True(request.HeadersSent);
    }

    [Fact]
    public void Close_sends_headers_and_body_then_completes_exactly_once()
    {
        using var request = PlainRequest();
        request.Write("hello");

        request.Close();
        request.Close();

        Assert.Equal(["write:" + PlainHead + "hello", "complete"], request.Log);
        Assert.True(request.IsClosed);
    }

    [Fact]
    public async Task CloseAsync_does_the_same_asynchronously_and_a_second_close_is_a_no_op()
    {
        using var request = PlainRequest();
        request.Write("hello");

        await request.CloseAsync(TestContext.Current.CancellationToken);
        await request.CloseAsync(TestContext.Current.CancellationToken);
        request.Close();

        Assert.Equal(["write:" + PlainHead + "hello", "complete"], request.Log);
        Assert.Equal(2, request.AsyncCalls);
    }

    [Fact]
    public void Close_with_no_body_sends_only_the_headers()
    {
        using var request = new RecordingRequest();

        request.Close();

        Assert.Equal(["write:Content-Type: text/html; charset=utf-8\r\n\r\n", "complete"], request.Log);
    }

    [Fact]
    public void Output_after_a_flush_is_buffered_again_until_the_next_one()
    {
        using var request = PlainRequest();
        request.Write("a");
        request.Flush();
        request.Write("b");
        Assert.Equal(2, request.Log.Count);

        request.Close();

        Assert.Equal(["write:" + PlainHead + "a", "flush", "write:b", "complete"], request.Log);
    }

    [Fact]
    public void Status_goes_first_then_the_headers_in_the_order_they_were_set()
    {
        // lighttpd reads an authorizer's headers before its Status as those of a grant, and keeps them from the client.
        using var request = PlainRequest();
        request.SetStatus(404);
        request.AddHeader("X-Multi", "1");
        request.AddHeader("X-Multi", "2");
        request.Write("body");

        request.Close();

        Assert.Equal("Status: 404 Not Found\r\nContent-Type: text/plain\r\nX-Multi: 1\r\nX-Multi: 2\r\n\r\nbody", request.OutputText);
    }

    [Fact]
    public void The_head_and_the_buffered_body_go_to_the_transport_in_one_write()
    {
        // Under FastCGI one write is one FCGI_STDOUT record; mod_authnz_fcgi only keeps the body bytes that share the
        // record where the headers end.
        using var request = PlainRequest();
        request.SetStatus(403);
        request.Write("forbidden\n");

        request.Close();

        Assert.Equal(["write:Status: 403 Forbidden\r\nContent-Type: text/plain\r\n\r\nforbidden\n", "complete"], request.Log);
    }

    [Fact]
    public void A_Location_path_alone_is_a_local_redirect_of_that_header_only()
    {
        using var request = new RecordingRequest();
        request.SetHeader("Location", "/new/place");

        request.Close();

        Assert.Equal("Location: /new/place\r\n\r\n", request.OutputText);
    }

    [Fact]
    public void A_Location_with_a_status_is_a_client_redirect_sent_as_written()
    {
        using var request = new RecordingRequest();
        request.SetStatus(301);
        request.SetHeader("Location", "/new/place");

        request.Close();

        Assert.Equal("Status: 301 Moved Permanently\r\nContent-Type: text/html; charset=utf-8\r\nLocation: /new/place\r\n\r\n", request.OutputText);
    }

    [Fact]
    public void A_Location_path_with_a_cookie_is_a_client_redirect_with_302_and_the_cookie()
    {
        using var request = new RecordingRequest();
        request.SetCookie("session", "1");
        request.SetHeader("Location", "/home");

        request.Close();

        Assert.Equal("Status: 302 Found\r\nContent-Type: text/html; charset=utf-8\r\nSet-Cookie: session=1\r\nLocation: /home\r\n\r\n", request.OutputText);
    }

    [Fact]
    public void A_Location_path_with_a_body_is_a_client_redirect_with_the_body()
    {
        using var request = PlainRequest();
        request.SetHeader("Location", "/home");
        request.Write("see /home\n");

        request.Close();

        Assert.Equal("Status: 302 Found\r\nContent-Type: text/plain\r\nLocation: /home\r\n\r\nsee /home\n", request.OutputText);
    }

    [Fact]
    public void The_default_Content_Type_names_the_output_encoding()
    {
        using var request = new RecordingRequest();
        request.OutputEncoding = Encoding.Latin1;
        request.Write("caf\u00E9");

        request.Close();

        Assert.Equal("Content-Type: text/html; charset=iso-8859-1\r\n\r\ncaf\u00E9", request.OutputText);
    }

    [Fact]
    public void A_Content_Type_the_application_set_is_kept_whatever_the_output_encoding()
    {
        using var request = PlainRequest();
        request.OutputEncoding = Encoding.Latin1;

        request.Close();

        Assert.Equal(PlainHead, request.OutputText);
    }

    [Fact]
    public void Non_ascii_header_values_are_sent_as_utf8()
    {
        using var request = new RecordingRequest();
        request.ClearHeaders();
        request.SetHeader("X-Name", "é");

        request.Close();

        Assert.Equal("X-Name: \u00c3\u00a9\r\n\r\n", request.OutputText);
    }

    [Fact]
    public void ClearHeaders_then_close_sends_just_the_empty_line()
    {
        using var request = new RecordingRequest();
        request.ClearHeaders();

        request.Close();

        Assert.Equal("\r\n", request.OutputText);
    }

    [Fact]
    public void OutputHeaders_sends_the_headers_at_once_and_a_second_call_is_a_SequencingException()
    {
        using var request = PlainRequest();

        request.OutputHeaders();
        Assert.Equal(["write:" + PlainHead], request.Log);

        Assert.Throws<SequencingException>(() => request.OutputHeaders());
        Assert.Throws<SequencingException>(() => request.OutputHeadersAsync(TestContext.Current.CancellationToken).AsTask().GetAwaiter().GetResult());
        request.Write("x");
        request.Close();
        Assert.Equal(["write:" + PlainHead, "write:x", "complete"], request.Log);
    }

    [Fact]
    public async Task OutputHeadersAsync_sends_the_headers_asynchronously()
    {
        using var request = PlainRequest();

        await request.OutputHeadersAsync(TestContext.Current.CancellationToken);

        Assert.Equal(["write:" + PlainHead], request.Log);
        Assert.Equal(1, request.AsyncCalls);
        await Assert.ThrowsAsync<SequencingException>(() => request.OutputHeadersAsync(TestContext.Current.CancellationToken).AsTask());
    }

    [Fact]
    public void Turning_buffering_off_flushes_the_buffer_then_every_write_goes_out_with_a_flush()
    {
        using var request = PlainRequest();
        request.Write("a");

        request.Buffering = false;
        Assert.Equal(["write:" + PlainHead + "a", "flush"], request.Log);

        request.Write("b");
        request.Write("cd"u8);
        Assert.Equal(["write:" + PlainHead + "a", "flush", "write:b", "flush", "write:cd", "flush"], request.Log);

        request.Close();
        Assert.Equal("complete", request.Log[^1]);
        Assert.Equal(7, request.Log.Count);
        Assert.Equal(PlainHead + "abcd", request.OutputText);
    }

    [Fact]
    public void Turning_buffering_off_with_nothing_buffered_sends_the_headers()
    {
        using var request = PlainRequest();

        request.Buffering = false;

        Assert.Equal(["write:" + PlainHead, "flush"], request.Log);
        Assert.False(request.Buffering);
    }

    [Fact]
    public void Unbuffered_first_write_sends_the_headers_first()
    {
        using var request = PlainRequest();
        request.Buffering = false;
        request.Log.Clear();

        request.Write("x");

        Assert.Equal(["write:x", "flush"], request.Log);
    }

    [Fact]
    public void Turning_buffering_back_on_buffers_again()
    {
        using var request = PlainRequest();
        request.Buffering = false;
        request.Write("a");

        request.Buffering = true;
        request.Write("b");
        var count = request.Log.Count;
        request.Seek(1);
        request.Write("B");

        Assert.Equal(count, request.Log.Count);
        request.Close();
        Assert.Equal(PlainHead + "aB", request.OutputText);
    }

    [Fact]
    public void Seek_moves_the_write_position_and_later_writes_overwrite()
    {
        using var request = PlainRequest();
        request.Write("hello world");
        Assert.Equal(11, request.Tell());

        request.Seek(6);
        Assert.Equal(6, request.Tell());
        request.Write("WORLD!");
        Assert.Equal(12, request.Tell());

        request.Seek(0);
        request.Write("J");
        Assert.Equal(1, request.Tell());

        request.Close();
        Assert.Equal(PlainHead + "Jello WORLD!", request.OutputText);
    }

    [Fact]
    public void Seek_to_the_end_is_allowed_and_past_it_or_before_the_start_is_not()
    {
        using var request = PlainRequest();
        request.Write("abc");

        request.Seek(3);
        Assert.Throws<ArgumentOutOfRangeException>(() => request.Seek(4));
        Assert.Throws<ArgumentOutOfRangeException>(() => request.Seek(-1));
        Assert.Equal(3, request.Tell());
    }

    [Fact]
    public void Seek_then_a_write_past_the_old_end_extends_the_output()
    {
        using var request = PlainRequest();
        request.Write("abc");
        request.Seek(2);

        request.Write(new string('x', 5000));

        Assert.Equal(5002, request.Tell());
        request.Close();
        Assert.Equal(PlainHead + "ab" + new string('x', 5000), request.OutputText);
    }

    [Fact]
    public void Tell_counts_bytes_already_sent_and_Seek_cannot_reach_them()
    {
        using var request = PlainRequest();
        request.Write("abc");
        request.Flush();
        Assert.Equal(3, request.Tell());

        request.Write("de");
        Assert.Equal(5, request.Tell());
        Assert.Throws<ArgumentOutOfRangeException>(() => request.Seek(2));

        request.Seek(3);
        request.Write("X");
        Assert.Equal(4, request.Tell());
        request.Close();
        Assert.Equal(PlainHead + "abcXe", request.OutputText);
    }

    [Fact]
    public void Tell_counts_unbuffered_writes()
    {
        using var request = PlainRequest();
        request.Write("ab");
        request.Buffering = false;
        request.Write("cde");

        Assert.Equal(5, request.Tell());
    }

    [Fact]
    public void ClearOutput_discards_the_buffer()
    {
        using var request = PlainRequest();
        request.Write("discarded");

        request.ClearOutput();
        Assert.Equal(0, request.Tell());
        request.Write("kept");
        request.Close();

        Assert.Equal(PlainHead + "kept", request.OutputText);
    }

    [Fact]
    public void ClearOutput_after_a_flush_discards_only_what_is_still_buffered()
    {
        using var request = PlainRequest();
        request.Write("sent");
        request.Flush();
        request.Write("discarded");

        request.ClearOutput();
        Assert.Equal(4, request.Tell());
        request.Close();

        Assert.Equal(PlainHead + "sent", request.OutputText);
    }

    [Fact]
    public void ClearOutput_and_Seek_when_not_buffering_are_SequencingExceptions()
    {
        using var request = PlainRequest();
        request.Buffering = false;
        request.Write("x");

        Assert.Throws<SequencingException>(() => request.ClearOutput());
        Assert.Throws<SequencingException>(() => request.Seek(1));
    }

    public static TheoryData<string, Action<Request>> CallsAfterClose => new()
    {
        { "Write(string)", r => r.Write("x") },
        { "Write(bytes)", r => r.Write("x"u8) },
        { "WriteAsync(string)", r => r.WriteAsync("x", TestContext.Current.CancellationToken).AsTask().GetAwaiter().GetResult() },
        { "WriteAsync(bytes)", r => r.WriteAsync("x"u8.ToArray(), TestContext.Current.CancellationToken).AsTask().GetAwaiter().GetResult() },
        { "Flush", r => r.Flush() },
        { "FlushAsync", r => r.FlushAsync(TestContext.Current.CancellationToken).AsTask().GetAwaiter().GetResult() },
        { "Seek", r => r.Seek(0) },
        { "ClearOutput", r => r.ClearOutput() },
        { "Buffering", r => r.Buffering = false },
        { "OutputHeaders", r => r.OutputHeaders() },
        { "OutputStream.Write", r => r.OutputStream.Write([1]) },
    };

    [Theory]
    [MemberData(nameof(CallsAfterClose))]
    public void Output_calls_after_Close_are_SequencingExceptions(string name, Action<Request> call)
    {
        using var request = PlainRequest();
        request.Close();
        var log = request.Log.Count;

        Assert.Throws<SequencingException>(() => call(request));

        Assert.Equal(log, request.Log.Count);
        Assert.NotNull(name);
    }

    [Fact]
    public async Task Unbuffered_output_calls_after_Close_are_SequencingExceptions_too()
    {
        using var request = PlainRequest();
        request.Buffering = false;
        request.Close();

        Assert.Throws<SequencingException>(() => request.Write("x"));
        await Assert.ThrowsAsync<SequencingException>(() => request.WriteAsync("x"u8.ToArray(), TestContext.Current.CancellationToken).AsTask());
        await Assert.ThrowsAsync<SequencingException>(() => request.WriteAsync("x", TestContext.Current.CancellationToken).AsTask());
        Assert.Throws<SequencingException>(() => request.Buffering = true);
    }

    [Fact]
    public void OutputStream_and_BodyWriter_write_the_same_bytes_as_Write()
    {
        using var request = PlainRequest();

        request.Write("abc");
        request.OutputStream.Write("def"u8);
        request.OutputStream.Write(Encoding.ASCII.GetBytes("-ghi-"), 1, 3);
        request.BodyWriter.Write("jkl"u8);
        request.Close();

        Assert.Equal(PlainHead + "abcdefghijkl", request.OutputText);
        Assert.Equal(1, request.Log.Count(e => e == "complete"));
    }

    [Fact]
    public void OutputStream_is_one_write_only_stream_whose_position_is_Tell()
    {
        using var request = PlainRequest();
        var stream = request.OutputStream;

        stream.Write("abc"u8);

        Assert.Same(stream, request.OutputStream);
        Assert.True(stream.CanWrite);
        Assert.False(stream.CanRead);
        Assert.False(stream.CanSeek);
        Assert.Equal(3, stream.Position);
        Assert.Throws<NotSupportedException>(() => stream.ReadByte());
    }

    [Fact]
    public void OutputStream_Flush_flushes_the_request()
    {
        using var request = PlainRequest();
        request.OutputStream.Write("abc"u8);

        request.OutputStream.Flush();

        Assert.Equal(["write:" + PlainHead + "abc", "flush"], request.Log);
    }

    [Fact]
    public async Task BodyWriter_FlushAsync_sends_what_it_holds()
    {
        using var request = PlainRequest();
        request.Buffering = false;
        request.Log.Clear();

        await request.BodyWriter.WriteAsync("abc"u8.ToArray(), TestContext.Current.CancellationToken);

        Assert.Equal(["write:abc", "flush", "flush"], request.Log);
        Assert.Same(request.BodyWriter, request.BodyWriter);
    }

    [Fact]
    public async Task OutputStream_async_writes_reach_the_request()
    {
        using var request = PlainRequest();

        await request.OutputStream.WriteAsync("abc"u8.ToArray(), TestContext.Current.CancellationToken);
        // The array overload is the one older stream code calls; it must reach the request as well.
#pragma warning disable CA1835
        await request.OutputStream.WriteAsync(Encoding.ASCII.GetBytes("-def-"), 1, 3, TestContext.Current.CancellationToken);
#pragma warning restore CA1835
        await request.OutputStream.FlushAsync(TestContext.Current.CancellationToken);

        Assert.Equal(["write:" + PlainHead + "abcdef", "flush"], request.Log);
    }

    [Fact]
    public async Task WriteAsync_buffers_when_buffering()
    {
        using var request = PlainRequest();

        await request.WriteAsync("ab", TestContext.Current.CancellationToken);
        await request.WriteAsync("cd"u8.ToArray(), TestContext.Current.CancellationToken);

        Assert.Empty(request.Log);
        Assert.Equal(4, request.Tell());
        await request.FlushAsync(TestContext.Current.CancellationToken);
        Assert.Equal(["write:" + PlainHead + "abcd", "flush"], request.Log);
        Assert.Equal(2, request.AsyncCalls);
    }

    [Fact]
    public async Task WriteAsync_unbuffered_sends_each_write_asynchronously()
    {
        using var request = PlainRequest();
        request.Buffering = false;
        request.Log.Clear();
        var before = request.AsyncCalls;

        await request.WriteAsync("é", TestContext.Current.CancellationToken);
        await request.WriteAsync("cd"u8.ToArray(), TestContext.Current.CancellationToken);

        Assert.Equal(["write:\u00c3\u00a9", "flush", "write:cd", "flush"], request.Log);
        Assert.Equal(4, request.AsyncCalls - before);
        Assert.Equal(4, request.Tell());
    }

    [Fact]
    public async Task WriteAsync_unbuffered_sends_the_headers_first()
    {
        using var request = PlainRequest();
        request.Write("a");
        request.Flush();
        request.Log.Clear();
        request.Buffering = false;

        await request.WriteAsync("b", TestContext.Current.CancellationToken);

        Assert.Equal(["flush", "write:b", "flush"], request.Log);
    }

    [Fact]
    public void Text_is_utf8_by_default()
    {
        using var request = PlainRequest();
        Assert.Same(Encoding.UTF8, request.OutputEncoding);

        request.Write("é€");
        request.Close();

        Assert.Equal([.. Encoding.ASCII.GetBytes(PlainHead), 0xC3, 0xA9, 0xE2, 0x82, 0xAC], request.Output);
    }

    [Fact]
    public async Task Text_uses_the_output_encoding_when_set()
    {
        using var request = PlainRequest();
        request.OutputEncoding = Encoding.Latin1;

        request.Write("é");
        await request.WriteAsync("ü", TestContext.Current.CancellationToken);
        request.Buffering = false;
        await request.WriteAsync("ß", TestContext.Current.CancellationToken);
        request.Close();

        Assert.Equal([.. Encoding.ASCII.GetBytes(PlainHead), 0xE9, 0xFC, 0xDF], request.Output);
        Assert.Throws<ArgumentNullException>(() => request.OutputEncoding = null!);
    }

    [Fact]
    public void Long_text_is_encoded_whole()
    {
        using var request = PlainRequest();
        var text = string.Concat(Enumerable.Repeat("héllo wörld ", 1000));

        request.Write(text);
        request.Close();

        var (_, body) = request.SplitOutput();
        Assert.Equal(Encoding.UTF8.GetBytes(text), body);
    }

    [Fact]
    public void Empty_writes_send_nothing_for_the_body()
    {
        using var request = PlainRequest();
        request.Buffering = false;
        request.Log.Clear();

        request.Write("");

        Assert.Equal(["flush"], request.Log);
    }

    [Fact]
    public void A_local_redirect_sends_only_the_location_and_no_body()
    {
        using var request = PlainRequest();
        request.SetHeader("Location", "/local/path?q=1");

        request.Close();

        Assert.Equal("Location: /local/path?q=1\r\n\r\n", request.OutputText);
        Assert.Equal(["write:Location: /local/path?q=1\r\n\r\n", "complete"], request.Log);
    }

    [Fact]
    public void A_local_redirect_drops_unbuffered_body_writes_too()
    {
        using var request = PlainRequest();
        request.SetHeader("Location", "/elsewhere");
        request.Buffering = false;

        request.Write("dropped");
        request.Close();

        Assert.Equal("Location: /elsewhere\r\n\r\n", request.OutputText);
    }

    [Theory]
    [InlineData("http://x/")]
    [InlineData("//x/y")]
    [InlineData("relative")]
    public void A_client_redirect_without_status_gets_302_first(string location)
    {
        using var request = PlainRequest();
        request.SetHeader("Location", location);
        request.Write("see elsewhere");

        request.Close();

        Assert.Equal($"Status: 302 Found\r\nContent-Type: text/plain\r\nLocation: {location}\r\n\r\nsee elsewhere", request.OutputText);
    }

    [Fact]
    public void A_client_redirect_keeps_its_own_status()
    {
        using var request = PlainRequest();
        request.SetHeader("Location", "http://x/");
        request.SetStatus(301);

        request.Close();

        Assert.Equal("Status: 301 Moved Permanently\r\nContent-Type: text/plain\r\nLocation: http://x/\r\n\r\n", request.OutputText);
    }

    [Fact]
    public void A_broken_transport_aborts_the_request_with_ConnectionLost()
    {
        using var request = PlainRequest();
        var token = request.RequestAborted;
        request.Write("a");
        request.FailWrites = true;

        request.Flush();

        Assert.Equal(AbortReason.ConnectionLost, request.Aborted);
        Assert.True(token.IsCancellationRequested);
        Assert.Empty(request.Log);
    }

    [Fact]
    public async Task After_an_abort_later_writes_are_dropped_silently()
    {
        using var request = PlainRequest();
        request.Buffering = false;
        request.FailWrites = true;

        request.Write("lost");
        Assert.Equal(AbortReason.ConnectionLost, request.Aborted);
        request.FailWrites = false;
        var log = request.Log.Count;

        request.Write("dropped");
        await request.WriteAsync("dropped", TestContext.Current.CancellationToken);
        request.Buffering = true;
        request.Write("dropped");
        request.Flush();
        request.Close();

        Assert.Equal(["complete"], request.Log.Skip(log));
        Assert.DoesNotContain("dropped", request.OutputText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_async_write_to_a_broken_transport_aborts_too()
    {
        using var request = PlainRequest();
        request.Buffering = false;
        request.FailWrites = true;

        await request.WriteAsync("lost"u8.ToArray(), TestContext.Current.CancellationToken);

        Assert.Equal(AbortReason.ConnectionLost, request.Aborted);
        Assert.True(request.RequestAborted.IsCancellationRequested);
    }

    [Fact]
    public async Task A_broken_transport_during_FlushAsync_or_OutputHeadersAsync_aborts_without_throwing()
    {
        using var flushed = PlainRequest();
        flushed.Write("a");
        flushed.FailWrites = true;
        await flushed.FlushAsync(TestContext.Current.CancellationToken);
        Assert.Equal(AbortReason.ConnectionLost, flushed.Aborted);

        using var headed = PlainRequest();
        headed.FailWrites = true;
        await headed.OutputHeadersAsync(TestContext.Current.CancellationToken);
        Assert.Equal(AbortReason.ConnectionLost, headed.Aborted);
        Assert.True(headed.HeadersSent);
    }

    [Fact]
    public void A_broken_transport_during_Close_aborts_without_throwing()
    {
        using var request = PlainRequest();
        request.Write("a");
        request.FailWrites = true;

        request.Close();

        Assert.Equal(AbortReason.ConnectionLost, request.Aborted);
        Assert.True(request.IsClosed);
    }

    [Fact]
    public async Task A_broken_transport_during_CloseAsync_aborts_without_throwing()
    {
        using var request = PlainRequest();
        request.Write("a");
        request.FailWrites = true;

        await request.CloseAsync(TestContext.Current.CancellationToken);

        Assert.Equal(AbortReason.ConnectionLost, request.Aborted);
    }

    [Fact]
    public void An_abort_by_the_web_server_fires_the_token_and_drops_output()
    {
        using var request = PlainRequest();
        var fired = 0;
        using var registration = request.RequestAborted.Register(() => fired++);
        request.Write("dropped");

        request.AbortFromTransport(AbortReason.WebServer);
        request.AbortFromTransport(AbortReason.ConnectionLost);
        request.OutputHeaders();
        request.Close();

        Assert.Equal(AbortReason.WebServer, request.Aborted);
        Assert.Equal(1, fired);
        Assert.Equal(["complete"], request.Log);
    }

    [Fact]
    public void A_throwing_abort_callback_does_not_stop_the_abort()
    {
        using var request = PlainRequest();
        using var registration = request.RequestAborted.Register(() => throw new InvalidOperationException("callback"));

        request.AbortFromTransport(AbortReason.WebServer);

        Assert.Equal(AbortReason.WebServer, request.Aborted);
        Assert.True(request.RequestAborted.IsCancellationRequested);
    }

    [Fact]
    public void An_abort_arriving_after_Dispose_is_harmless()
    {
        var request = PlainRequest();
        request.Close();
        request.Dispose();

        request.AbortFromTransport(AbortReason.WebServer);

        Assert.Equal(AbortReason.WebServer, request.Aborted);
        Assert.False(request.RequestAborted.IsCancellationRequested);
    }

    [Fact]
    public void Error_goes_to_the_error_log_with_a_line_break_never_to_the_client()
    {
        using var request = PlainRequest();

        request.Error("one");
        request.Error("two\n");

        Assert.Equal(["error:one\n", "error:two\n"], request.Log);
        Assert.Equal("one\ntwo\n", request.ErrorLog);
        Assert.Empty(request.Output);
    }

    [Fact]
    public void Traceback_logs_the_exception_and_replaces_headers_and_output_with_a_500_page()
    {
        using var request = PlainRequest();
        request.SetStatus(201);
        request.AddHeader("X-Secret", "1");
        request.Write("partial output");
        var exception = Thrown(new InvalidOperationException("boom"));

        request.Traceback(exception);
        request.Close();

        Assert.Equal(exception.ToString() + "\n", request.ErrorLog);
        Assert.Equal(
            "Status: 500 Internal Server Error\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + ErrorPage500,
            request.OutputText);
        Assert.Equal("error:" + exception + "\n", request.Log[0]);
    }

    [Fact]
    public void Traceback_discards_a_local_redirect_and_a_seek_position()
    {
        using var request = PlainRequest();
        request.SetHeader("Location", "/local");
        request.Write("0123456789");
        request.Seek(2);

        request.Traceback(new InvalidOperationException("boom"));
        request.Close();

        Assert.Equal(
            "Status: 500 Internal Server Error\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + ErrorPage500,
            request.OutputText);
    }

    [Fact]
    public void Traceback_of_a_rejected_request_sends_its_status_and_logs_one_line()
    {
        using var request = PlainRequest();
        request.Write("partial");

        request.Traceback(new RequestRejectedException(413, "Form over 4 MiB."));
        request.Close();

        Assert.Equal("Request rejected (413): Form over 4 MiB.\n", request.ErrorLog);
        Assert.Equal(
            "Status: 413 Content Too Large\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
            + "<!DOCTYPE html>\n<html><head><title>413 Content Too Large</title></head>\n"
            + "<body><h1>413 Content Too Large</h1>\n<p>The server could not complete the request.</p>\n</body></html>\n",
            request.OutputText);
    }

    [Fact]
    public void Traceback_after_the_headers_were_sent_only_logs()
    {
        using var request = PlainRequest();
        request.Write("sent");
        request.Flush();
        request.Write(" buffered");
        var exception = new InvalidOperationException("late");

        request.Traceback(exception);
        request.Close();

        Assert.Equal(exception + "\n", request.ErrorLog);
        Assert.Equal(PlainHead + "sent buffered", request.OutputText);
    }

    [Fact]
    public void Traceback_after_Close_only_logs()
    {
        using var request = PlainRequest();
        request.Close();
        var output = request.OutputText;

        request.Traceback(new RequestRejectedException(400, "bad"));

        Assert.Equal("Request rejected (400): bad\n", request.ErrorLog);
        Assert.Equal(output, request.OutputText);
    }

    [Fact]
    public void Traceback_after_an_abort_only_logs()
    {
        using var request = PlainRequest();
        request.AbortFromTransport(AbortReason.WebServer);

        request.Traceback(new InvalidOperationException("x"));
        request.Close();

        Assert.Equal(["error:" + new InvalidOperationException("x") + "\n", "complete"], request.Log);
    }

    [Fact]
    public void Traceback_discards_bytes_the_handler_left_in_the_BodyWriter()
    {
        using var request = PlainRequest();
        request.BodyWriter.Write("pending in the pipe"u8);

        request.Traceback(new InvalidOperationException("boom"));
        request.Close();

        Assert.Equal(
            "Status: 500 Internal Server Error\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + ErrorPage500,
            request.OutputText);
    }

    [Fact]
    public void Traceback_with_buffering_off_sends_the_page_when_the_headers_were_not_sent()
    {
        using var request = PlainRequest();
        request.Write("discarded");

        request.Traceback(new InvalidOperationException("x"));
        request.Buffering = false;
        request.Close();

        Assert.Equal(
            "Status: 500 Internal Server Error\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + ErrorPage500,
            request.OutputText);
    }

    [Fact]
    public void Dispose_without_Close_sends_nothing()
    {
        var request = PlainRequest();
        request.Write("never sent");

        request.Dispose();

        Assert.Empty(request.Log);
    }

    private static Exception Thrown(Exception exception)
    {
        try
        {
            throw exception;
        }
        catch (Exception caught)
        {
            return caught;
        }
    }
}
