using System.Buffers;
using System.IO.Pipelines;
using FastCgi.Connection;
using FastCgi.Tests.Support;
using FastCgi.Tests.Cgi;
using Xunit;
using FastCgi.Protocol;

namespace FastCgi.Tests.Connection;

/// <summary>
/// Steady-state managed allocation of a whole hello request through the connection layer (issue 5: at most
/// 1 KiB per request). The web server side reuses one pre-encoded request and scans the output in place, so the
/// bytes counted are the server's.
/// </summary>
[Collection(nameof(RunsAlone))]
public sealed class AllocationTests
{
    [Fact]
    public async Task A_hello_request_allocates_at_most_1_KiB()
    {
        var toApp = new Pipe(new PipeOptions(useSynchronizationContext: false));
        var fromApp = new Pipe(new PipeOptions(useSynchronizationContext: false));
        var application = new HandlerApplication(new Dictionary<Role, Func<Handler>> { [Role.Responder] = () => new Hello() }, RequestType.Default, RequestLimits.Default);
        var connection = new FastCgiConnection(new DuplexPipe(toApp.Reader, fromApp.Writer), application, new FastCgiConnectionSettings(), 1, () => { });
        var run = Task.Run(connection.RunAsync);
        var request = FcgiTestClient.Request(1, NginxLikeParams(), []);

        await SendAndAwaitAsync(toApp.Writer, fromApp.Reader, request, 2000);
        var before = GC.GetTotalAllocatedBytes(precise: true);
        const int count = 20_000;
        await SendAndAwaitAsync(toApp.Writer, fromApp.Reader, request, count);
        var perRequest = (GC.GetTotalAllocatedBytes(precise: true) - before) / count;

        await toApp.Writer.CompleteAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(perRequest <= 1024, $"{perRequest} bytes allocated per hello request");
    }

    private static async Task SendAndAwaitAsync(PipeWriter output, PipeReader input, byte[] request, int count)
    {
        for (var i = 0; i < count; i++)
        {
            await output.WriteAsync(request);
            while (true)
            {
                var result = await input.ReadAsync();
                var ended = EndsWithEndRequest(result.Buffer);
                input.AdvanceTo(ended ? result.Buffer.End : result.Buffer.Start, result.Buffer.End);
                if (ended)
                {
                    break;
                }
            }
        }
    }

    /// <summary>Whether the output so far is whole records, the last of them END_REQUEST.</summary>
    private static bool EndsWithEndRequest(ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        byte lastType = 0;
        Span<byte> header = stackalloc byte[8];
        while (reader.TryCopyTo(header))
        {
            var total = 8 + ((header[4] << 8) | header[5]) + header[6];
            if (reader.Remaining < total)
            {
                return false;
            }

            lastType = header[1];
            reader.Advance(total);
        }

        return reader.Remaining == 0 && lastType == FcgiTestClient.EndRequest;
    }

    private static Dictionary<string, string> NginxLikeParams() => FcgiTestClient.Environ("/hello", extra: new Dictionary<string, string>
    {
        ["SCRIPT_FILENAME"] = "/srv/www/hello",
        ["DOCUMENT_URI"] = "/hello",
        ["DOCUMENT_ROOT"] = "/srv/www",
        ["REQUEST_SCHEME"] = "http",
        ["SERVER_SOFTWARE"] = "nginx/1.22.1",
        ["REMOTE_PORT"] = "53244",
        ["SERVER_ADDR"] = "127.0.0.1",
        ["HTTP_HOST"] = "localhost:8080",
        ["HTTP_USER_AGENT"] = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        ["HTTP_ACCEPT"] = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        ["HTTP_ACCEPT_LANGUAGE"] = "en-US,en;q=0.5",
        ["HTTP_ACCEPT_ENCODING"] = "gzip, deflate, br",
        ["HTTP_CONNECTION"] = "keep-alive",
        ["CONTENT_TYPE"] = "",
        ["CONTENT_LENGTH"] = "",
    });

    private sealed class Hello : Handler
    {
        public override void Process(Request request)
        {
            request.SetHeader("Content-Type", "text/plain");
            request.Write("Hello, world!\n");
        }
    }
}
