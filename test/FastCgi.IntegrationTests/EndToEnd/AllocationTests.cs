using System.Buffers;
using System.Net.Sockets;
using System.Text;
using FastCgi.IntegrationTests.Support;
using FastCgi.Testing;
using Microsoft.Extensions.Logging;
using Xunit;

namespace FastCgi.IntegrationTests.EndToEnd;

/// <summary>
/// Steady-state managed allocation of a hello request on the path Linux users run: a real <see cref="FastCgiServer"/>
/// with default options on a Unix socket, so the epoll transport, where the README's synchronous handler runs on
/// the loop thread that read its request. The client allocates nothing per request (one pre-encoded request, one
/// receive buffer scanned in place), so the bytes counted are the server's.
/// </summary>
[Collection(nameof(RunsAlone))]
public sealed class AllocationTests
{
    // 432 B measured (.NET 10.0.12, Release): the FastCgiRequest 176 B, its ResponseWriter 72 B, ResponseHeaderList
    // 32 B and header array 88 B; the ParamsDictionary 40 B; the Hello handler 24 B (docs/performance.md). Every await
    // completes on the loop thread, so no state machine is boxed. The margin is for a loaded machine: there a
    // request's end sometimes waits (the allocation sampler names the state machines of Request.CloseAsync,
    // ResponseWriter.FinishAsync, FastCgiConnection.EndRequestAsync and ConnectionOutput.EndRequestAsync and a
    // semaphore's wait node, 640 B together); with a load average of 11 on 2 cores one run in six measured 446-574 B
    // in every round, the others 432 B.
    private const int MaxBytesPerRequest = 432 + 24;

    private const string LoopThreadName = "FastCgi I/O";

    // Requests served off the loop threads: after a loop thread stalls (a loaded machine can make one look blocked)
    // the engine hands events to the thread pool for a while, and a synchronous handler to a handler thread.
    private static int _offLoop;

    [Fact]
    public async Task A_hello_request_over_the_default_epoll_transport_allocates_at_most_456_bytes()
    {
        // The epoll transport exists only on Linux; anywhere else this test fails rather than measure another path.
        Assert.True(OperatingSystem.IsLinux(), "The default transport measured here is Linux's epoll engine.");
        var path = Path.Combine(Directory.CreateTempSubdirectory("fastcgi-alloc-").FullName, "s.sock");
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = new CancellationTokenSource();
        var options = new FastCgiServerOptions { Listen = $"unix:{path}", HandleSignals = false, LoggerFactory = new ListeningSignal(listening) };
        var run = new FastCgiServer(() => new Hello(), options).RunAsync(stop.Token);
        await listening.Task.WaitAsync(TimeSpan.FromSeconds(10));

        // The least of the rounds served wholly on loop threads (up to 10 rounds, stopping at the first within the
        // bound): what a round allocates besides its requests (code tiering up) is not per request.
        const int count = 10_000;
        var rounds = new List<string>();
        var least = long.MaxValue;
        using (var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            socket.Connect(new UnixDomainSocketEndPoint(path));
            var request = FcgiRecords.Request(1, CgiVariables.NginxHello(), []);
            var buffer = new byte[64 * 1024];
            Assert.EndsWith("\r\n\r\nHello, world!\n", FirstResponse(socket, request, buffer), StringComparison.Ordinal);
            SendAndAwait(socket, request, buffer, 5000);
            while (rounds.Count < 10 && least > MaxBytesPerRequest)
            {
                Volatile.Write(ref _offLoop, 0);
                var before = GC.GetTotalAllocatedBytes(precise: true);
                SendAndAwait(socket, request, buffer, count);
                var bytes = (GC.GetTotalAllocatedBytes(precise: true) - before) / count;
                var offLoop = Volatile.Read(ref _offLoop);
                rounds.Add(offLoop == 0 ? $"{bytes}" : $"({bytes}, {offLoop} requests off the loop)");
                least = offLoop == 0 ? Math.Min(least, bytes) : least;
            }
        }

        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(least <= MaxBytesPerRequest, $"bytes allocated per hello request, each round of {count}: {string.Join(", ", rounds)}");
    }

    /// <summary>One request and its response as text (STDOUT only), to check the path before measuring it.</summary>
    private static string FirstResponse(Socket socket, byte[] request, byte[] buffer)
    {
        socket.Send(request);
        var filled = ReceiveUntilEndRequest(socket, buffer, 0);
        var records = new ReadOnlySequence<byte>(buffer, 0, filled);
        var stdout = new StringBuilder();
        while (FcgiRecords.TryTake(ref records, out var record))
        {
            if (record.Type == FcgiRecords.Stdout)
            {
                stdout.Append(Encoding.Latin1.GetString(record.Content));
            }
        }

        return stdout.ToString();
    }

    private static void SendAndAwait(Socket socket, byte[] request, byte[] buffer, int count)
    {
        for (var i = 0; i < count; i++)
        {
            socket.Send(request);
            ReceiveUntilEndRequest(socket, buffer, i);
        }
    }

    /// <summary>Receives into <paramref name="buffer"/> until it holds whole records, the last END_REQUEST; returns their length.</summary>
    private static int ReceiveUntilEndRequest(Socket socket, byte[] buffer, int request)
    {
        var filled = 0;
        var scanned = 0;
        while (true)
        {
            var received = socket.Receive(buffer, filled, buffer.Length - filled, SocketFlags.None);
            if (received == 0)
            {
                throw new EndOfStreamException($"The server closed the connection before END_REQUEST of request {request + 1}.");
            }

            filled += received;
            while (FcgiRecords.TryReadHeader(new ReadOnlySequence<byte>(buffer, scanned, filled - scanned), out var type, out _, out _, out var total))
            {
                scanned += total;
                if (type == FcgiRecords.EndRequest)
                {
                    // Not an Assert: xunit's comparison allocates, and this runs inside the measured rounds.
                    return filled == scanned ? filled : throw new InvalidDataException($"{filled - scanned} bytes followed END_REQUEST of request {request + 1}.");
                }
            }
        }
    }

    private sealed class Hello : Handler
    {
        public override void Process(Request request)
        {
            if (Thread.CurrentThread.Name != LoopThreadName)
            {
                Interlocked.Increment(ref _offLoop);
            }

            request.SetHeader("Content-Type", "text/plain");
            request.Write("Hello, world!\n");
        }
    }

    /// <summary>Completes <c>listening</c> when the server logs that it listens; logs nothing (and so allocates nothing) per request.</summary>
    private sealed class ListeningSignal(TaskCompletionSource listening) : ILoggerFactory, ILogger
    {
        public ILogger CreateLogger(string categoryName) => this;

        public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        // Per-request events are Debug; "Listening on" is Information (ServerLog, event 10).
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Id == 10)
            {
                listening.TrySetResult();
            }
        }

        public void Dispose()
        {
        }
    }
}
