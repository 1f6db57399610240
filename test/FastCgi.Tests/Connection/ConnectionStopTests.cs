using System.Buffers;
using System.IO.Pipelines;
using FastCgi.Connection;
using FastCgi.Protocol;
using FastCgi.Tests.Support;
using Xunit;
using static FastCgi.Testing.CgiVariables;
using static FastCgi.Testing.FcgiRecords;

namespace FastCgi.Tests.Connection;

/// <summary>
/// A stop asked for while a request is ending: the request left the connection's table, but its last write still
/// waits for the web server. Once that write is done the connection has nothing left and must end (as a drain
/// after jonpy's <c>max_requests</c> expects), not stay open until the shutdown timeout.
/// </summary>
public sealed class ConnectionStopTests
{
    [Fact]
    public async Task A_stop_between_a_requests_release_and_its_last_write_ends_the_connection_after_that_write()
    {
        var toApp = new Pipe(new PipeOptions(readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false));
        var fromApp = new Pipe(new PipeOptions(pauseWriterThreshold: 16 * 1024, resumeWriterThreshold: 8 * 1024, useSynchronizationContext: false));
        var app = new LargeAnswer();
        var connection = new FastCgiConnection(new DuplexPipe(toApp.Reader, fromApp.Writer), app, new FastCgiConnectionSettings(), 1, () => { });
        var run = connection.RunAsync();

        await toApp.Writer.WriteAsync(Request(1, Environ("/large"), []));
        await app.Ending.Task.Within("the request to be released with its last write waiting");
        connection.RequestStop();

        // The web server reads the response (past its STDOUT); the last write done, the connection ends though its
        // input did not.
        var read = 0L;
        while (true)
        {
            var result = await fromApp.Reader.ReadAsync().AsTask().Within("the response");
            read += result.Buffer.Length;
            fromApp.Reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted || read >= LargeAnswer.Size + 16)
            {
                break;
            }
        }

        await run.Within("the connection to end once its last request's write was done");
    }

    /// <summary>Leaves its whole answer to <see cref="FastCgiRequestContext.CompleteAsync"/>, whose write waits for the web server.</summary>
    private sealed class LargeAnswer : IFastCgiApplication
    {
        public const int Size = 64 * 1024;

        public TaskCompletionSource Ending { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Accepts(Role role) => role == Role.Responder;

        public async ValueTask ProcessRequestAsync(FastCgiRequestContext request)
        {
            request.Output.Write(new byte[Size]);
            var completing = request.CompleteAsync();
            Assert.False(completing.IsCompleted, "The last write did not wait for the web server.");
            Ending.SetResult();
            await completing;
        }
    }
}
