using System.Net.Sockets;
using FastCgi.IntegrationTests.Support;
using FastCgi.Testing;
using Xunit;
using static FastCgi.Testing.CgiVariables;
using static FastCgi.Testing.FcgiRecords;
using FastCgi.Connection;

namespace FastCgi.IntegrationTests.EndToEnd;

/// <summary><see cref="FastCgiServer"/> in this process: RunAsync's token and Exit() both drain and return.</summary>
public sealed class ServerLifecycleTests
{
    [Fact]
    public async Task Exit_lets_the_request_in_flight_finish_then_run_returns()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("fastcgi-server-").FullName, "s.sock");
        var release = new TaskCompletionSource();
        var started = new TaskCompletionSource();
        var server = new FastCgiServer(() => new Gate(release.Task, started), Options(path));
        var run = server.RunAsync();
        await using var client = await ConnectWhenReadyAsync(path);
        await client.SendAsync(Request(1, Environ("/"), []));
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        server.Exit();

        // Exit has taken effect once the server stops listening; the request in flight still holds RunAsync.
        Assert.True(await ListeningSockets.WaitUntilClosedAsync(new UnixDomainSocketEndPoint(path), TimeSpan.FromSeconds(10)));
        Assert.False(run.IsCompleted);
        release.SetResult();
        Assert.Equal("released", (await client.ReadResponseAsync(1)).BodyText);
        await run.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(File.Exists(path));
    }

    [Fact]
    public async Task The_run_token_stops_an_idle_server()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("fastcgi-server-").FullName, "s.sock");
        using var stop = new CancellationTokenSource();
        var run = new FastCgiServer(() => new Gate(Task.CompletedTask, new TaskCompletionSource()), Options(path)).RunAsync(stop.Token);
        await using (var client = await ConnectWhenReadyAsync(path))
        {
            Assert.Equal("released", (await client.RequestAsync(1, Environ("/"))).BodyText);
        }

        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task The_drain_timeout_aborts_the_handler_and_still_ends_its_request()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("fastcgi-server-").FullName, "s.sock");
        var seen = new TaskCompletionSource<AbortReason>();
        var started = new TaskCompletionSource();
        var server = new FastCgiServer(() => new Gate(new TaskCompletionSource().Task, started, seen), Options(path) with { ShutdownTimeout = TimeSpan.FromMilliseconds(300) });
        var run = server.RunAsync();
        await using var client = await ConnectWhenReadyAsync(path);
        await client.SendAsync(Request(1, Environ("/"), []));
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        server.Exit();
        var response = await client.ReadResponseAsync(1, TimeSpan.FromSeconds(5));
        Assert.Equal(AbortReason.WebServer, await seen.Task);

        // Writes after an abort are dropped: the request ends with an empty STDOUT and END_REQUEST.
        Assert.Empty(response.Stdout);
        Assert.Equal(0, response.ProtocolStatus);
        await run.WaitAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>
    /// Requests run on the server's loop threads, and so does the rest of a handler whose body read was waiting
    /// when the body arrives. What that rest leaves in an AsyncLocal (where ASP.NET Core keeps the HttpContext)
    /// must not be there for the next request run on the same thread.
    /// </summary>
    [Fact]
    public async Task An_AsyncLocal_a_handler_sets_after_reading_its_body_is_not_seen_by_the_next_request()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("fastcgi-server-").FullName, "s.sock");
        using var stop = new CancellationTokenSource();
        var run = new FastCgiServer(() => new Leaky(), Options(path)).RunAsync(stop.Token);
        await using (var client = await ConnectWhenReadyAsync(path))
        {
            for (ushort id = 1; id <= 20; id += 2)
            {
                // The handler starts before its body comes, so it resumes where the body is read.
                await client.SendAsync([.. Begin(id), .. FcgiRecords.Stream(Params, id, NameValues(Environ($"/?n={id}", "POST", "text/plain", 1)))]);
                await client.SyncAsync();
                await client.SendAsync([.. Record(Stdin, id, "x"u8), .. Record(Stdin, id, [])]);
                Assert.Equal($"before: none, set: {id}", (await client.ReadResponseAsync(id)).BodyText);
                Assert.Equal($"before: none, set: {id + 1}", (await client.RequestAsync((ushort)(id + 1), Environ($"/?n={id + 1}"))).BodyText);
            }
        }

        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10));
    }

    private static FastCgiServerOptions Options(string path) => new() { Listen = $"unix:{path}", HandleSignals = false };

    private static async Task<FcgiTestClient> ConnectWhenReadyAsync(string path)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await FcgiTestClient.ConnectAsync(new UnixDomainSocketEndPoint(path));
            }
            catch (SocketException) when (attempt < 100)
            {
                await Task.Delay(50);
            }
        }
    }

    /// <summary>Signals <c>started</c>, answers once <c>gate</c> completes, or reports how it was aborted.</summary>
    private sealed class Gate(Task gate, TaskCompletionSource started, TaskCompletionSource<AbortReason>? aborted = null) : Handler
    {
        public override async ValueTask ProcessAsync(Request request, CancellationToken cancellationToken)
        {
            started.TrySetResult();
            request.SetHeader("Content-Type", "text/plain");
            try
            {
                await gate.WaitAsync(cancellationToken);
                request.Write("released");
            }
            catch (OperationCanceledException)
            {
                aborted?.SetResult(request.Aborted);
            }
        }
    }

    private sealed class Leaky : Handler
    {
        private static readonly AsyncLocal<string?> Value = new();

        public override async ValueTask ProcessAsync(Request request, CancellationToken cancellationToken)
        {
            var before = Value.Value ?? "none";
            await request.Body.CopyToAsync(System.IO.Stream.Null, cancellationToken);
            Value.Value = request.Query.GetText("n");
            request.SetHeader("Content-Type", "text/plain");
            request.Write($"before: {before}, set: {Value.Value}");
        }
    }
}
