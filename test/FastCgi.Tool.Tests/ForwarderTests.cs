using System.Buffers;
using System.Net.Sockets;
using FastCgi.Testing;
using Microsoft.AspNetCore.Http;
using Xunit;
using static FastCgi.Testing.FcgiRecords;

namespace FastCgi.Tool.Tests;

/// <summary>
/// <c>fcgi serve</c>'s forwarder in this process, where the test decides when the client goes away, over a kept
/// connection whose other end plays the application and keeps every record it receives.
/// </summary>
public sealed class ForwarderTests
{
    [Fact]
    public async Task A_client_gone_before_the_request_was_sent_reaches_the_application_not_at_all_and_the_connection_is_kept()
    {
        using var kept = await KeptConnection.OpenAsync();
        using var log = new StringWriter();
        var context = new DefaultHttpContext { RequestAborted = new CancellationToken(canceled: true) };
        context.Request.Method = "GET";
        context.Request.Path = "/slow";

        await new FastCgiForwarder(kept.Pool, "/srv", log).ForwardAsync(context, []).WaitAsync(TimeSpan.FromSeconds(30));

        // No FCGI_ABORT_REQUEST for a request the application never began: it ignores that (spec 3.3), and the
        // forwarder would wait for an FCGI_END_REQUEST that never comes.
        Assert.Equal("fcgi: #1 /slow: the client went away before the request was sent" + Environment.NewLine, log.ToString());

        // The connection went back to the pool, and the application got nothing on it.
        var next = await kept.Pool.RentAsync(CancellationToken.None);
        Assert.True(next.Reused, "The connection was closed instead of going back to the pool.");
        kept.Pool.Return(next, reusable: false);
        var received = new Received(kept.Application);
        Assert.False(await received.UntilAsync(_ => false), "The connection was not closed.");
        Assert.Equal("no record, 0 bytes", received.ToString());
    }

    [Fact]
    public async Task A_client_gone_while_a_body_record_is_on_its_way_is_aborted_after_that_record_not_inside_it()
    {
        // A send buffer far smaller than a STDIN record (65536 bytes): a record's send waits for the application.
        using var kept = await KeptConnection.OpenAsync(sendBufferSize: 4096);
        using var log = new StringWriter();
        using var client = new CancellationTokenSource();
        const int BodyLength = 2 * 65528;
        var context = new DefaultHttpContext { RequestAborted = client.Token };
        context.Request.Method = "POST";
        context.Request.Path = "/upload";
        context.Request.ContentLength = BodyLength;
        context.Request.Body = new MemoryStream(new byte[BodyLength]);
        var forwarding = new FastCgiForwarder(kept.Pool, "/srv", log).ForwardAsync(context, []);

        // The head whole and the first bytes of the first STDIN record: the rest of it does not fit in the socket's
        // buffers, so its send is under way when the client goes away.
        var received = new Received(kept.Application);
        Assert.True(await received.UntilAsync(r => r.Pending > 0 && r.Records.Any(record => record is { Type: Params, Content.Length: 0 })));
        await client.CancelAsync();

        if (await received.UntilAsync(r => r.Records[^1].Type == AbortRequest))
        {
            await kept.Application.SendAsync(Record(EndRequest, 1, EndRequestBody()).AsMemory(), SocketFlags.None);
        }

        await forwarding.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(await received.UntilAsync(_ => false), "The aborted request's connection was kept.");

        // The STDIN record went out whole, then FCGI_ABORT_REQUEST (no end of STDIN: the client sends no more).
        Assert.EndsWith("STDIN 65528 bytes, ABORT_REQUEST 0 bytes; then 0 bytes", received.ToString(), StringComparison.Ordinal);
        Assert.Matches(@"#1 /upload: aborted; the application ended it \d+ ms after FCGI_ABORT_REQUEST \(appStatus 0\)", log.ToString());
    }

    /// <summary>
    /// A connection idle in a new pool, as after an earlier request, over a Unix socket pair: the pool's end (with a
    /// send buffer of <c>sendBufferSize</c> if given) and the application's.
    /// </summary>
    private sealed class KeptConnection(UpstreamPool pool, Socket application) : IDisposable
    {
        public UpstreamPool Pool => pool;

        public Socket Application => application;

        public static async Task<KeptConnection> OpenAsync(int? sendBufferSize = null)
        {
            var endPoint = new UnixDomainSocketEndPoint(Path.Combine(Directory.CreateTempSubdirectory("fcgi-forwarder-").FullName, "app.sock"));
            using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            listener.Bind(endPoint);
            listener.Listen(1);
            var forwarderEnd = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            if (sendBufferSize is { } size)
            {
                forwarderEnd.SendBufferSize = size;
            }

            await forwarderEnd.ConnectAsync(endPoint);
            var idle = new UpstreamPool(endPoint);
            idle.Return(new Upstream(new RecordChannel(forwarderEnd, null), Reused: true, Generation: 0), reusable: true);
            return new KeptConnection(idle, await listener.AcceptAsync());
        }

        public void Dispose()
        {
            pool.Dispose();
            application.Dispose();
        }
    }

    /// <summary>What the application's end received: whole records, and the bytes of the next one so far.</summary>
    private sealed class Received(Socket socket)
    {
        private readonly byte[] _buffer = new byte[1024];
        private byte[] _pending = [];

        public List<FcgiRecord> Records { get; } = [];

        public int Pending => _pending.Length;

        /// <summary>Receives until <paramref name="done"/> holds (true) or the connection closes (false), within 30 s.</summary>
        public async Task<bool> UntilAsync(Func<Received, bool> done)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (!done(this))
            {
                var read = await socket.ReceiveAsync(_buffer.AsMemory(), SocketFlags.None, timeout.Token);
                if (read == 0)
                {
                    return false;
                }

                var bytes = new ReadOnlySequence<byte>([.. _pending, .. _buffer.AsSpan(0, read)]);
                while (TryTake(ref bytes, out var record))
                {
                    Records.Add(record);
                }

                _pending = bytes.ToArray();
            }

            return true;
        }

        /// <summary>The records' types and sizes, then how many bytes of a record that never came whole.</summary>
        public override string ToString() =>
            (Records.Count == 0 ? "no record" : string.Join(", ", Records.Select(r => $"{TypeName(r.Type)} {r.Content.Length} bytes")))
            + (Records.Count == 0 ? ", " : "; then ") + $"{Pending} bytes";

        private static string TypeName(byte type) => type switch
        {
            BeginRequest => "BEGIN_REQUEST",
            AbortRequest => "ABORT_REQUEST",
            Params => "PARAMS",
            Stdin => "STDIN",
            _ => type.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
    }
}
