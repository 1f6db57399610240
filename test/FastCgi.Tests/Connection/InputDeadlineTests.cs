using System.IO.Pipelines;
using FastCgi.Connection;
using FastCgi.Protocol;
using FastCgi.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using Xunit;
using static FastCgi.Testing.CgiVariables;
using static FastCgi.Testing.FcgiRecords;

namespace FastCgi.Tests.Connection;

/// <summary>
/// The input deadlines of one connection on a fake clock, with the web server's bytes read inline: each write
/// returns once the read loop waits for the next read, so the test knows which read is pending when it moves time
/// on and asks the connection to check (as the host does once a second). A read is timed only while a request
/// waits for input, and a request's PARAMS deadline starts with the read that began it.
/// </summary>
public sealed class InputDeadlineTests
{
    private static readonly TimeSpan InputTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_body_that_stops_coming_after_a_kept_request_is_timed_from_the_read_that_waits_for_it()
    {
        await using var served = new Served();

        // Between kept requests nothing waits for input: an hour passes without a timeout.
        await served.SendAsync(Request(1, Environ("/hello"), []));
        Assert.Equal(1, await served.ReadEndRequestAsync());
        served.Time.Advance(TimeSpan.FromHours(1));
        served.Connection.CheckTimeouts();
        Assert.Equal(0, served.TimedOut);

        await served.SendAsync([.. Request(2, Environ("/upload", "POST")), .. Record(Stdin, 2, "part"u8)]);
        served.Time.Advance(InputTimeout - TimeSpan.FromSeconds(1));
        served.Connection.CheckTimeouts();
        Assert.Equal(0, served.TimedOut);
        served.Time.Advance(TimeSpan.FromSeconds(2));
        served.Connection.CheckTimeouts();
        Assert.Equal(1, served.TimedOut);
    }

    [Fact]
    public async Task A_PARAMS_stream_that_stops_is_timed_from_the_read_with_its_BEGIN_REQUEST()
    {
        await using var served = new Served();
        await served.SendAsync(Request(1, Environ("/hello"), []));
        Assert.Equal(1, await served.ReadEndRequestAsync());
        served.Time.Advance(TimeSpan.FromHours(1));

        await served.SendAsync([.. Begin(2), .. Record(Params, 2, NameValues(Environ("/hello")).AsSpan(0, 10))]);
        served.Time.Advance(InputTimeout - TimeSpan.FromSeconds(1));
        served.Connection.CheckTimeouts();
        Assert.Equal(0, served.TimedOut);

        // More PARAMS do not move the deadline: it is the stream's, from BEGIN_REQUEST.
        await served.SendAsync(Record(Params, 2, NameValues(Environ("/hello")).AsSpan(10, 5)));
        served.Time.Advance(TimeSpan.FromSeconds(2));
        served.Connection.CheckTimeouts();
        Assert.Equal(1, served.TimedOut);
    }

    /// <summary>A connection over an inline input pipe, with an application that reads the whole body before it answers.</summary>
    private sealed class Served : IAsyncDisposable
    {
        private readonly Pipe _toApp = new(new PipeOptions(readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false));
        private readonly Pipe _fromApp = new(new PipeOptions(useSynchronizationContext: false));
        private readonly Task _run;
        private int _timedOut;

        public Served()
        {
            var settings = new FastCgiConnectionSettings { TimeProvider = Time, InputTimeout = InputTimeout };
            Connection = new FastCgiConnection(new DuplexPipe(_toApp.Reader, _fromApp.Writer), new BodyReader(), settings, 1, () => Interlocked.Increment(ref _timedOut));
            _run = Connection.RunAsync();
        }

        public FakeTimeProvider Time { get; } = new();

        public FastCgiConnection Connection { get; }

        /// <summary>How many times the connection closed its transport for a timeout.</summary>
        public int TimedOut => Volatile.Read(ref _timedOut);

        public async Task SendAsync(byte[] bytes)
        {
            var flush = _toApp.Writer.WriteAsync(bytes);
            Assert.True(flush.IsCompleted, "The read loop did not take the bytes inline.");
            await flush;
        }

        /// <summary>The id of the next END_REQUEST record the connection sends.</summary>
        public async Task<int> ReadEndRequestAsync()
        {
            while (true)
            {
                var result = await _fromApp.Reader.ReadAsync().AsTask().Within("a response");
                var buffer = result.Buffer;
                while (TryTake(ref buffer, out var record))
                {
                    if (record.Type == EndRequest)
                    {
                        _fromApp.Reader.AdvanceTo(buffer.Start);
                        return record.RequestId;
                    }
                }

                _fromApp.Reader.AdvanceTo(buffer.Start, result.Buffer.End);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _toApp.Writer.CompleteAsync();
            await _run.Within("the connection to end with its input");
        }
    }

    private sealed class BodyReader : IFastCgiApplication
    {
        public bool Accepts(Role role) => role == Role.Responder;

        public async ValueTask ProcessRequestAsync(FastCgiRequestContext request)
        {
            while (true)
            {
                var result = await request.Body.ReadAsync();
                request.Body.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }

            await request.CompleteAsync();
        }
    }
}
