using FastCgi.Cgi;
using FastCgi.Connection;
using FastCgi.Tests.Support;
using Xunit;

namespace FastCgi.Tests.Cgi;

public sealed class HandlerTests
{
    private const string ErrorHead500 = "Status: 500 Internal Server Error\r\nContent-Type: text/html; charset=utf-8\r\n\r\n";

    private const string ErrorPage500 =
        "<!DOCTYPE html>\n<html><head><title>500 Internal Server Error</title></head>\n"
        + "<body><h1>500 Internal Server Error</h1>\n<p>The server could not complete the request.</p>\n</body></html>\n";

    private sealed class SyncHello : Handler
    {
        public override void Process(Request request)
        {
            request.SetHeader("Content-Type", "text/plain");
            request.Write("sync hello");
        }
    }

    private sealed class AsyncHello : Handler
    {
        public CancellationToken Token { get; private set; }

        public override async ValueTask ProcessAsync(Request request, CancellationToken cancellationToken)
        {
            Token = cancellationToken;
            await Task.Yield();
            request.SetHeader("Content-Type", "text/plain");
            await request.WriteAsync("async hello", cancellationToken);
        }
    }

    private sealed class Neither : Handler
    {
    }

    private sealed class Throwing(Exception exception, bool async = false) : Handler
    {
        public override async ValueTask ProcessAsync(Request request, CancellationToken cancellationToken)
        {
            request.AddHeader("X-Lost", "1");
            request.Write("partial");
            if (async)
            {
                await Task.Yield();
            }

            throw exception;
        }
    }

    private sealed class CustomTraceback(Exception exception) : Handler
    {
        public List<Exception> Reported { get; } = [];

        public override void Process(Request request) => throw exception;

        public override void Traceback(Request request, Exception exception)
        {
            Reported.Add(exception);
            request.SetStatus(503);
            request.Write("custom");
        }
    }

    private sealed class BrokenTraceback(Exception exception, Exception secondary) : Handler
    {
        public override void Process(Request request) => throw exception;

        public override void Traceback(Request request, Exception exception) => throw secondary;
    }

    private sealed class AbortedWhileWaiting : Handler
    {
        public override async ValueTask ProcessAsync(Request request, CancellationToken cancellationToken)
        {
            request.Write("never sent");
            ((RecordingRequest)request).AbortFromTransport(AbortReason.WebServer);
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
    }

    [Fact]
    public async Task A_handler_overriding_only_Process_runs_and_the_request_is_closed()
    {
        using var request = new RecordingRequest();

        await HandlerRunner.RunAsync(new SyncHello(), request);

        Assert.Equal("Content-Type: text/plain\r\n\r\nsync hello", request.OutputText);
        Assert.Equal("complete", request.Log[^1]);
        Assert.True(request.IsClosed);
        Assert.Equal("", request.ErrorLog);
    }

    [Fact]
    public async Task A_handler_overriding_only_ProcessAsync_runs_with_the_abort_token()
    {
        using var request = new RecordingRequest();
        var handler = new AsyncHello();

        await HandlerRunner.RunAsync(handler, request);

        Assert.Equal("Content-Type: text/plain\r\n\r\nasync hello", request.OutputText);
        Assert.Equal(request.RequestAborted, handler.Token);
        Assert.Equal(1, request.Log.Count(e => e == "complete"));
        Assert.Equal("", request.ErrorLog);
    }

    [Fact]
    public void Process_on_a_handler_overriding_only_ProcessAsync_waits_for_it()
    {
        using var request = new RecordingRequest();

        new AsyncHello().Process(request);
        request.Close();

        Assert.Equal("Content-Type: text/plain\r\n\r\nasync hello", request.OutputText);
    }

    [Fact]
    public async Task ProcessAsync_on_a_handler_overriding_only_Process_calls_it()
    {
        using var request = new RecordingRequest();

        await new SyncHello().ProcessAsync(request, TestContext.Current.CancellationToken);
        request.Close();

        Assert.Equal("Content-Type: text/plain\r\n\r\nsync hello", request.OutputText);
    }

    [Fact]
    public async Task A_handler_overriding_neither_says_so_instead_of_overflowing_the_stack()
    {
        using var request = new RecordingRequest();
        var handler = new Neither();

        var direct = Assert.Throws<InvalidOperationException>(() => handler.Process(request));
        Assert.Equal("Neither must override Process or ProcessAsync.", direct.Message);
        await Assert.ThrowsAsync<InvalidOperationException>(() => handler.ProcessAsync(request, TestContext.Current.CancellationToken).AsTask());
        Assert.Empty(request.Log);
    }

    [Fact]
    public async Task A_handler_overriding_neither_gets_a_500_with_the_message_in_the_error_log()
    {
        using var request = new RecordingRequest();

        await HandlerRunner.RunAsync(new Neither(), request);

        Assert.StartsWith("System.InvalidOperationException: Neither must override Process or ProcessAsync.", request.ErrorLog, StringComparison.Ordinal);
        Assert.Equal(ErrorHead500 + ErrorPage500, request.OutputText);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_exception_reaches_Traceback_which_replaces_the_response(bool async)
    {
        using var request = new RecordingRequest();
        var exception = new InvalidOperationException("boom");

        await HandlerRunner.RunAsync(new Throwing(exception, async), request);

        Assert.Equal(exception + "\n", request.ErrorLog);
        Assert.Equal(ErrorHead500 + ErrorPage500, request.OutputText);
        Assert.Equal("complete", request.Log[^1]);
    }

    [Fact]
    public async Task A_rejected_request_gets_its_status_and_a_one_line_log()
    {
        using var request = new RecordingRequest();

        await HandlerRunner.RunAsync(new Throwing(new RequestRejectedException(413, "Body over the limit.")), request);

        Assert.Equal("Request rejected (413): Body over the limit.\n", request.ErrorLog);
        Assert.StartsWith("Status: 413 Content Too Large\r\n", request.OutputText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_overridden_Traceback_gets_the_exception()
    {
        using var request = new RecordingRequest();
        var exception = new FormatException("bad");
        var handler = new CustomTraceback(exception);

        await HandlerRunner.RunAsync(handler, request);

        Assert.Equal([exception], handler.Reported);
        Assert.Equal("Status: 503 Service Unavailable\r\nContent-Type: text/html; charset=utf-8\r\n\r\ncustom", request.OutputText);
        Assert.Equal("", request.ErrorLog);
    }

    [Fact]
    public async Task An_exception_in_Traceback_itself_only_reaches_the_error_log()
    {
        using var request = new RecordingRequest();
        var exception = new InvalidOperationException("first");
        var secondary = new NotSupportedException("second");

        await HandlerRunner.RunAsync(new BrokenTraceback(exception, secondary), request);

        Assert.Equal($"{exception}\nThe error handler failed too: {secondary}\n", request.ErrorLog);
        Assert.Equal("Content-Type: text/html; charset=utf-8\r\n\r\n", request.OutputText);
        Assert.Equal(1, request.Log.Count(e => e == "complete"));
    }

    [Fact]
    public async Task A_lost_error_log_does_not_escape_the_runner()
    {
        using var request = new RecordingRequest { FailErrors = true };

        await HandlerRunner.RunAsync(new Throwing(new InvalidOperationException("x")), request);

        Assert.Equal("", request.ErrorLog);
        Assert.True(request.IsClosed);
    }

    [Fact]
    public async Task Cancellation_after_an_abort_is_not_reported()
    {
        using var request = new RecordingRequest();

        await HandlerRunner.RunAsync(new AbortedWhileWaiting(), request);

        Assert.Equal(AbortReason.WebServer, request.Aborted);
        Assert.Equal("", request.ErrorLog);
        Assert.Equal(["complete"], request.Log);
    }

    [Fact]
    public async Task Cancellation_without_an_abort_is_an_error()
    {
        using var request = new RecordingRequest();
        var exception = new OperationCanceledException("not an abort");

        await HandlerRunner.RunAsync(new Throwing(exception), request);

        Assert.Equal(exception + "\n", request.ErrorLog);
        Assert.Equal(ErrorHead500 + ErrorPage500, request.OutputText);
    }

    [Fact]
    public async Task A_failure_closing_the_response_is_logged_not_thrown()
    {
        var failure = new ObjectDisposedException("transport");
        using var request = new RecordingRequest { CompleteFailure = failure };
        request.SetHeader("Content-Type", "text/plain");

        await HandlerRunner.RunAsync(new SyncHello(), request);

        Assert.Equal($"Closing the response failed: {failure}\n", request.ErrorLog);
        Assert.Equal("Content-Type: text/plain\r\n\r\nsync hello", request.OutputText);
    }

    [Fact]
    public void The_default_Traceback_sends_the_generic_page()
    {
        using var request = new RecordingRequest();
        var exception = new InvalidOperationException("x");

        new SyncHello().Traceback(request, exception);
        request.Close();

        Assert.Equal(exception + "\n", request.ErrorLog);
        Assert.Equal(ErrorHead500 + ErrorPage500, request.OutputText);
    }

    [Fact]
    public void Null_requests_are_rejected()
    {
        Assert.Throws<ArgumentNullException>(() => new SyncHello().Traceback(null!, new InvalidOperationException()));
        Assert.Throws<ArgumentNullException>(() => new Neither().Process(null!));
    }
}
