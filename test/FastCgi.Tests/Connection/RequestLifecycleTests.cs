using System.Text;
using FastCgi.Testing;
using FastCgi.Tests.Support;
using Xunit;
using static FastCgi.Testing.CgiVariables;
using static FastCgi.Testing.FcgiRecords;
using FastCgi.Connection;
using FastCgi.Server;

namespace FastCgi.Tests.Connection;

/// <summary>
/// What the handler sees of the protocol, checked from inside the handler over in-memory pipes: aborts and lost
/// connections reach it, the body streams in while it reads, and a slow web server slows its writes.
/// </summary>
public sealed class RequestLifecycleTests
{
    [Fact]
    public async Task Abort_request_fires_the_token_and_sets_aborted_and_still_ends_the_request()
    {
        var seen = new TaskCompletionSource<AbortReason>();
        var started = new TaskCompletionSource();
        await using var connection = new InMemoryConnection(() => new WaitingHandler(started, seen));
        await connection.WebServer.SendAsync(Request(1, Environ("/wait"), []));
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await connection.WebServer.SendAsync(Record(AbortRequest, 1, []));
        Assert.Equal(AbortReason.WebServer, await seen.Task.WaitAsync(TimeSpan.FromSeconds(5)));
        var response = await connection.WebServer.ReadResponseAsync(1);
        Assert.Empty(response.Stdout);
        Assert.Equal((0, 0), (response.AppStatus, response.ProtocolStatus));
    }

    [Fact]
    public async Task A_lost_connection_fires_the_token_with_connection_lost()
    {
        var seen = new TaskCompletionSource<AbortReason>();
        var started = new TaskCompletionSource();
        await using var connection = new InMemoryConnection(() => new WaitingHandler(started, seen));
        await connection.WebServer.SendAsync(Request(1, Environ("/wait"), []));
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await connection.WebServer.CloseAsync();
        Assert.Equal(AbortReason.ConnectionLost, await seen.Task.WaitAsync(TimeSpan.FromSeconds(5)));
        await connection.Run.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task The_handler_reads_the_body_while_the_web_server_is_still_sending_it()
    {
        var firstChunk = new TaskCompletionSource<string>();
        await using var connection = new InMemoryConnection(() => new StreamingReader(firstChunk));
        await connection.WebServer.SendAsync([.. Begin(1), .. FcgiRecords.Stream(Params, 1, NameValues(Environ("/read", "POST"))), .. Record(Stdin, 1, "first|"u8)]);

        // The rest of the body is not sent yet: the handler must already have the first part.
        Assert.Equal("first|", await firstChunk.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        await connection.WebServer.SendAsync([.. Record(Stdin, 1, "second"u8), .. Record(Stdin, 1, [])]);
        Assert.Equal("first|second", (await connection.WebServer.ReadResponseAsync(1)).BodyText);
    }

    [Fact]
    public async Task A_web_server_that_stops_reading_holds_the_handler_back()
    {
        var held = new TaskCompletionSource<(long Written, Task Write)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new System.IO.Pipelines.PipeOptions(pauseWriterThreshold: 256 * 1024, resumeWriterThreshold: 128 * 1024);
        await using var connection = new InMemoryConnection(() => new Flooder(held), outputOptions: output);
        await connection.WebServer.SendAsync(Request(1, Environ("/flood"), []));
        var (written, write) = await held.Task.WaitAsync(TimeSpan.FromSeconds(10));

        // Nobody reads the output: the handler is held near the pipe's threshold instead of buffering 100 MB, and
        // its write only goes on once the output is read.
        Assert.InRange(written, 1, 1024 * 1024);
        Assert.False(write.IsCompleted);
        Assert.True((await connection.WebServer.ReadResponseAsync(1)).Stdout.Length > 100_000_000);
        Assert.True(write.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task Sync_and_async_handlers_both_answer()
    {
        await using var sync = new InMemoryConnection(() => new SyncHello());
        await sync.WebServer.SendAsync(Request(1, Environ("/"), []));
        Assert.Equal("Content-Type: text/html; charset=utf-8\r\n\r\nsync", (await sync.WebServer.ReadResponseAsync(1)).Text);

        await using var async = new InMemoryConnection(() => new AsyncHello());
        await async.WebServer.SendAsync(Request(1, Environ("/"), []));
        Assert.Equal("Content-Type: text/html; charset=utf-8\r\n\r\nasync", (await async.WebServer.ReadResponseAsync(1)).Text);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Error_output_after_Close_goes_to_the_logger_and_nothing_follows_END_REQUEST(bool throws)
    {
        var done = new TaskCompletionSource();
        var logs = new CapturingLoggerFactory();
        await using var connection = new InMemoryConnection(() => new LateWriter(throws, done), new FastCgiServerOptions { LoggerFactory = logs });
        await connection.WebServer.SendAsync(Request(1, Environ("/late"), []));
        var response = await connection.WebServer.ReadResponseAsync(1);
        Assert.Equal("Content-Type: text/plain\r\n\r\ndone", response.Text);
        Assert.Equal((0, 0), (response.AppStatus, response.ProtocolStatus));

        // FCGI_STDERR after END_REQUEST would belong to no request (or to the next one with the same id).
        await done.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Empty(connection.WebServer.TakeAvailableRecords());
        Assert.Contains(logs.Lines, line => line.Contains("request 1 wrote to its error log after it ended", StringComparison.Ordinal)
            && line.Contains(throws ? "late failure" : "late message", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_handler_that_fails_after_output_was_sent_ends_the_connection_without_END_REQUEST()
    {
        var started = new TaskCompletionSource();
        var seen = new TaskCompletionSource<AbortReason>();
        await using var connection = new InMemoryConnection(
            () => new Router(new WaitingHandler(started, seen), new FailingStreamer()),
            new FastCgiServerOptions { ThreadingLevel = ThreadingLevel.Multiplexed });
        await connection.WebServer.SendAsync(Request(2, Environ("/wait"), []));
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await connection.WebServer.SendAsync(Request(1, Environ("/fail"), []));

        // The connection ends though the web server keeps its side open: nginx then sees a failed response, not a
        // complete one; the other request on the connection is aborted as by a lost connection.
        await connection.Run.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(AbortReason.ConnectionLost, await seen.Task.WaitAsync(TimeSpan.FromSeconds(5)));
        var records = connection.WebServer.TakeAvailableRecords();
        Assert.Equal(
            [(Stdout, 1, "Content-Type: application/octet-stream\r\n\r\n"), (Stdout, 1, "partial"), (Stderr, 1, "")],
            records.Select(r => (r.Type, (int)r.RequestId, r.Type == Stdout ? Encoding.ASCII.GetString(r.Content) : "")));
        Assert.Contains("half-way failure", Encoding.UTF8.GetString(records[2].Content), StringComparison.Ordinal);
    }

    private sealed class LateWriter(bool throws, TaskCompletionSource done) : Handler
    {
        public override void Process(Request request)
        {
            request.SetHeader("Content-Type", "text/plain");
            request.Write("done");
            request.Close();
            if (throws)
            {
                throw new InvalidOperationException("late failure");
            }

            request.Error("late message");
            done.SetResult();
        }

        public override void Traceback(Request request, Exception exception)
        {
            base.Traceback(request, exception);
            done.SetResult();
        }
    }

    private sealed class FailingStreamer : Handler
    {
        public override async ValueTask ProcessAsync(Request request, CancellationToken cancellationToken)
        {
            request.SetHeader("Content-Type", "application/octet-stream");
            request.Buffering = false;
            await request.WriteAsync("partial"u8.ToArray(), cancellationToken);
            throw new InvalidOperationException("half-way failure");
        }
    }

    /// <summary>Picks the handler by the request path: /wait or /fail.</summary>
    private sealed class Router(Handler wait, Handler fail) : Handler
    {
        public override ValueTask ProcessAsync(Request request, CancellationToken cancellationToken) =>
            (request.GetEnvironment("REQUEST_URI") == "/wait" ? wait : fail).ProcessAsync(request, cancellationToken);
    }

    private sealed class WaitingHandler(TaskCompletionSource started, TaskCompletionSource<AbortReason> seen) : Handler
    {
        public override async ValueTask ProcessAsync(Request request, CancellationToken cancellationToken)
        {
            started.SetResult();
            try
            {
                await Task.Delay(System.Threading.Timeout.Infinite, cancellationToken);
            }
            finally
            {
                seen.SetResult(request.Aborted);
            }
        }
    }

    private sealed class StreamingReader(TaskCompletionSource<string> firstChunk) : Handler
    {
        public override async ValueTask ProcessAsync(Request request, CancellationToken cancellationToken)
        {
            var buffer = new byte[100];
            var read = await request.Body.ReadAsync(buffer, cancellationToken);
            firstChunk.SetResult(Encoding.ASCII.GetString(buffer, 0, read));
            request.Write(buffer.AsSpan(0, read));
            while ((read = await request.Body.ReadAsync(buffer, cancellationToken)) > 0)
            {
                request.Write(buffer.AsSpan(0, read));
            }
        }
    }

    /// <summary>Writes 101 MB; the first write that cannot complete at once reports the bytes written before it.</summary>
    private sealed class Flooder(TaskCompletionSource<(long Written, Task Write)> held) : Handler
    {
        public override async ValueTask ProcessAsync(Request request, CancellationToken cancellationToken)
        {
            request.Buffering = false;
            var chunk = new byte[16 * 1024];
            for (long sent = 0; sent < 101_000_000; sent += chunk.Length)
            {
                var write = request.WriteAsync(chunk, cancellationToken).AsTask();
                if (!write.IsCompleted)
                {
                    held.TrySetResult((sent, write));
                }

                await write;
            }

            held.TrySetException(new InvalidOperationException("All 101 MB were written without the handler ever being held."));
        }
    }

    private sealed class SyncHello : Handler
    {
        public override void Process(Request request) => request.Write("sync");
    }

    private sealed class AsyncHello : Handler
    {
        public override async ValueTask ProcessAsync(Request request, CancellationToken cancellationToken)
        {
            await Task.Yield();
            await request.WriteAsync("async", cancellationToken);
        }
    }
}
