using System.IO.Pipelines;
using BenchmarkDotNet.Attributes;
using FastCgi.Cgi;
using FastCgi.Connection;
using FastCgi.Protocol;

namespace FastCgi.Benchmarks;

/// <summary>
/// One hello request end to end through the real FastCgiConnection, in memory: the request's records are written
/// into one Pipe, the connection's read loop decodes them, runs the hello handler on the thread pool, and the
/// benchmark reads the response records from a second Pipe up to END_REQUEST. No sockets, so this is everything
/// the library does per request (codec, environ, Request, record output, task hops) without the kernel's share.
/// The allocation column is the per-request managed allocation the goal limits to 1 KB: each invocation runs
/// <see cref="RoundTrips"/> requests, so the benchmark method's own state machine (one per invocation) is not
/// counted as the library's, and the figure is the one <c>AllocationTests</c> asserts.
/// </summary>
[MemoryDiagnoser]
public class ConnectionRoundTripBenchmarks
{
    private const int RoundTrips = 100;
    private readonly byte[] _request = Wire.HelloRequest(1);
    private Pipe _toServer = null!;
    private Pipe _fromServer = null!;
    private Task _connection = null!;

    [GlobalSetup]
    public void Setup()
    {
        _toServer = new Pipe(new PipeOptions(useSynchronizationContext: false));
        _fromServer = new Pipe(new PipeOptions(useSynchronizationContext: false));
        var handlers = new Dictionary<Role, Func<Handler>> { [Role.Responder] = () => new Hello() };
        var application = new HandlerApplication(handlers, RequestType.Default, RequestLimits.Default);
        var connection = new FastCgiConnection(new Transport(_toServer.Reader, _fromServer.Writer), application, new FastCgiConnectionSettings(), 1, () => { });
        _connection = connection.RunAsync();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _toServer.Writer.Complete();
        _connection.GetAwaiter().GetResult();
    }

    [Benchmark(OperationsPerInvoke = RoundTrips)]
    public async Task<long> HelloRoundTrip()
    {
        // One loop in one method: a helper method awaited per request would box a state machine per request.
        long stdout = 0;
        for (var i = 0; i < RoundTrips; i++)
        {
            await _toServer.Writer.WriteAsync(_request);
            var ended = false;
            while (!ended)
            {
                var result = await _fromServer.Reader.ReadAsync();
                var buffer = result.Buffer;
                while (RecordReader.TryReadRecord(ref buffer, out var header, out var content))
                {
                    if (header.Type == RecordType.Stdout)
                    {
                        stdout += content.Length;
                    }
                    else if (header.Type == RecordType.EndRequest)
                    {
                        ended = true;
                    }
                }

                _fromServer.Reader.AdvanceTo(buffer.Start, buffer.End);
                if (!ended && result.IsCompleted)
                {
                    throw new InvalidOperationException("The connection ended before END_REQUEST.");
                }
            }
        }

        return stdout;
    }

    private sealed class Hello : Handler
    {
        public override void Process(Request request)
        {
            request.SetHeader("Content-Type", "text/plain");
            request.Write("Hello, world!\n");
        }
    }
}

/// <summary>
/// The objects the connection and the application create before the handler runs, to split the round trip's
/// allocation: the FastCgiRequestContext (with its STDIN Pipe), kept per connection, and the FastCgiRequest over it
/// (its response writer and header list; the abort token is the context's), made per request.
/// </summary>
[MemoryDiagnoser]
public class RequestSetupBenchmarks
{
    private readonly ConnectionOutput _output = new(PipeWriter.Create(Stream.Null), TimeProvider.System);
    private readonly PipeOptions _pipeOptions = new(pauseWriterThreshold: 256 * 1024, resumeWriterThreshold: 128 * 1024, useSynchronizationContext: false);

    [Benchmark(Baseline = true)]
    public object NewRequestContext()
    {
        var context = new FastCgiRequestContext(null!, _output, _pipeOptions);
        context.Begin(1, Role.Responder, keepConnection: true);
        context.EndInput(new IOException("done"));
        return context;
    }

    [Benchmark]
    public object NewRequestContextAndRequest()
    {
        var context = new FastCgiRequestContext(null!, _output, _pipeOptions);
        context.Begin(1, Role.Responder, keepConnection: true);
        using var request = new FastCgiRequest(context);
        return request;
    }
}

/// <summary>The two in-memory pipes as the connection's transport.</summary>
internal sealed record Transport(PipeReader Input, PipeWriter Output) : IDuplexPipe;
