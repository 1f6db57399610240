using System.Buffers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Threading.Channels;
using FastCgi.Connection;
using FastCgi.Server.Transports.Linux;
using FastCgi.Testing;
using FastCgi.Tests.Cgi;
using FastCgi.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;
using static FastCgi.Testing.CgiVariables;
using static FastCgi.Testing.FcgiRecords;

namespace FastCgi.Tests.Server;

/// <summary>
/// The Linux epoll transport on real Unix sockets: output gathered from many pipe segments into one sendmsg(2)
/// survives the kernel taking only part of it, and a handler that blocks a loop thread is logged once. Alone: the stall
/// watch's verdicts follow the wall clock, which the other tests' servers and collections skew.
/// </summary>
[Collection(nameof(RunsAlone))]
public sealed class EpollTransportTests
{
    private const string BlockedWarning = "blocked an I/O thread";

    [Fact]
    public async Task Output_of_many_segments_reaches_a_slow_reader_whole_and_in_order_through_a_tiny_send_buffer()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "The epoll transport is Linux's; elsewhere the runtime's sockets serve.");
        using var engine = EpollEngine.TryCreate(NullLogger.Instance) ?? throw new InvalidOperationException("No epoll on this Linux.");
        var (server, client) = await UnixPairAsync();
        using var reader = client;

        // A send buffer of a few KiB: each sendmsg(2) of up to 64 segments is cut short, mostly inside a segment.
        server.SendBufferSize = 4096;
        var connection = engine.Accept(server, TimeProvider.System);
        var data = new byte[3 * 1024 * 1024];
        new Random(13).NextBytes(data);

        // Writes of odd sizes, flushed a few at a time, so the pipe holds many segments at once with unaligned ends.
        var writing = Task.Run(async () =>
        {
            var at = 0;
            for (var write = 0; at < data.Length; write++)
            {
                var length = Math.Min(data.Length - at, 40_000 + (write * 7919 % 30_000));
                connection.Output.Write(data.AsSpan(at, length));
                at += length;
                if (write % 5 == 4 || at == data.Length)
                {
                    await connection.Output.FlushAsync();
                }
            }

            await connection.CloseAsync(linger: false);
        });

        // A slow reader: 1000 bytes at a time, so the socket is full whenever the server sends.
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1000];
        var total = 0L;
        int read;
        while (total < data.Length && (read = await reader.ReceiveAsync(buffer.AsMemory()).AsTask().Within("the next bytes of the output")) > 0)
        {
            hash.AppendData(buffer, 0, read);
            total += read;
        }

        await writing.Within("the output to be sent");
        await connection.DisposeAsync();
        Assert.Equal(0, await reader.ReceiveAsync(buffer.AsMemory()).AsTask().Within("the end of the output"));
        Assert.Equal(data.Length, total);
        Assert.Equal(Convert.ToHexString(SHA256.HashData(data)), Convert.ToHexString(hash.GetHashAndReset()));
    }

    [Fact]
    public async Task A_handler_that_blocks_an_io_thread_is_logged_once_and_other_connections_are_served_meanwhile()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "The epoll transport is Linux's; elsewhere the runtime's sockets serve.");
        var path = Path.Combine(Directory.CreateTempSubdirectory("fastcgi-epoll-").FullName, "app.sock");
        var log = new CapturingLoggerFactory();
        using var release = new AutoResetEvent(initialState: false);
        var ran = Channel.CreateUnbounded<bool>();
        var options = new FastCgiServerOptions { Listen = "unix:" + path, LoggerFactory = log, HandleSignals = false };
        await using var server = new FastCgiServer(() => new Blocking(ran.Writer, release), options);
        var running = server.RunAsync();
        var endPoint = new UnixDomainSocketEndPoint(path);
        await using var blocked = await ConnectAsync(endPoint, running);

        // Hellos until one ran on a loop thread. A loop runs a request only once the read loop that read it is back
        // waiting for input, so the next request's records reach that read loop on a loop thread. The first request
        // usually arrives before the read loop first waits: read on the thread pool, it runs on a thread of its own,
        // and so does the next one if it comes before that read loop is back waiting (a loaded machine): no loop
        // blocks, and no warning comes.
        ushort id = 0;
        var onLoop = false;
        for (var attempt = 0; attempt < 10 && !onLoop; attempt++)
        {
            Assert.Equal("Hello, world!\n", (await blocked.RequestAsync(++id, Environ("/hello"))).BodyText);
            onLoop = await ran.Reader.ReadAsync().AsTask().Within("the hello to say where it ran");
        }

        Assert.True(onLoop, "No request ran on a loop thread of the epoll transport.");

        // The blocking request, again while it ran elsewhere and no warning came: a loop that has not had a core for
        // BusyMs is replaced before the requests it deferred run, and they go to the thread pool.
        for (var attempt = 0; attempt < 10; attempt++)
        {
            await blocked.SendAsync(Request(++id, Environ("/block"), []));
            onLoop = await ran.Reader.ReadAsync().AsTask().Within("the blocking request to start");
            if (onLoop || log.Lines.Any(line => line.Contains(BlockedWarning, StringComparison.Ordinal)))
            {
                break;
            }

            release.Set();
            Assert.Equal("blocked\n", (await blocked.ReadResponseAsync(id)).BodyText);
        }

        var warning = await log.LineAsync(BlockedWarning);

        await using var other = await ConnectAsync(endPoint, running);
        Assert.Equal("Hello, world!\n", (await other.RequestAsync(1, Environ("/hello"))).BodyText);

        release.Set();
        Assert.Equal("blocked\n", (await blocked.ReadResponseAsync(id)).BodyText);
        Assert.Equal("Hello, world!\n", (await other.RequestAsync(2, Environ("/hello"))).BodyText);
        Assert.Equal(
            $"Warning FastCgi.Server: A request blocked an I/O thread for more than {EpollEngine.StallMs} ms (a synchronous wait: blocking I/O, a lock, Thread.Sleep); "
                + "its thread was replaced, and requests run on the thread pool for the next 1 s, which is slower. "
                + "Await instead of blocking in ProcessAsync, or move the blocking work off the request's thread (Task.Run)",
            warning);
        Assert.Single(log.Lines, line => line.Contains(BlockedWarning, StringComparison.Ordinal));

        server.Exit();
        await running.Within("the server to stop");
    }

    [Fact]
    public void Caution_doubles_with_each_stall_and_goes_back_to_the_first_period_after_as_long_without_one()
    {
        var caution = new StallCaution(initial: 1000, max: 5000);

        Assert.True(caution.Stall(0, out var period));
        Assert.Equal((1000, 1000), (period, caution.Until));

        // Over, but only 500 quiet after a 1000 caution: the next is longer.
        Assert.True(caution.Stall(1500, out period));
        Assert.Equal((2000, 3500), (period, caution.Until));

        // During a caution: no new warning, and longer still, up to the maximum.
        Assert.False(caution.Stall(3000, out period));
        Assert.Equal((4000, 7000), (period, caution.Until));
        Assert.False(caution.Stall(7000 - 1, out period));
        Assert.Equal((5000, 11_999), (period, caution.Until));

        // Quiet for as long as the last caution (5000) after it ended: back to the first period.
        Assert.True(caution.Stall(11_999 + 5000, out period));
        Assert.Equal(1000, period);
    }

    private static async Task<FcgiTestClient> ConnectAsync(UnixDomainSocketEndPoint endPoint, Task running)
    {
        // The server binds its socket as it starts running.
        while (true)
        {
            try
            {
                return await FcgiTestClient.ConnectAsync(endPoint);
            }
            catch (SocketException exception) when (exception.SocketErrorCode is SocketError.AddressNotAvailable or SocketError.ConnectionRefused && !running.IsCompleted)
            {
                await Task.Yield();
            }
        }
    }

    private static async Task<(Socket Server, Socket Client)> UnixPairAsync()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("fastcgi-epoll-").FullName, "pair.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await client.ConnectAsync(new UnixDomainSocketEndPoint(path));
        return (await listener.AcceptAsync(), client);
    }

    /// <summary>
    /// Blocks its thread on /block until the test releases it (as synchronous I/O would); hello otherwise. Each request
    /// first tells <paramref name="ran"/> whether it runs on a loop thread of the epoll transport.
    /// </summary>
    private sealed class Blocking(ChannelWriter<bool> ran, AutoResetEvent release) : Handler
    {
        public override void Process(Request request)
        {
            ran.TryWrite(GuardedThread.IsCurrent);
            request.SetHeader("Content-Type", "text/plain");
            if (request.GetEnvironment("SCRIPT_NAME") != "/block")
            {
                request.Write("Hello, world!\n");
                return;
            }

            // A wait that sleeps at once (no spinning first), as blocking I/O does.
            Assert.True(release.WaitOne(Bounded.Limit), "The test never released the blocking request.");
            request.Write("blocked\n");
        }
    }
}
