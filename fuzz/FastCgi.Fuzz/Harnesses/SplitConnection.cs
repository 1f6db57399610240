using System.Collections.Concurrent;
using System.IO.Pipelines;
using FastCgi.Cgi;
using FastCgi.Connection;
using FastCgi.Protocol;
using FastCgi.Server;
using FastCgi.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace FastCgi.Fuzz.Harnesses;

/// <summary>What a handler saw of one request.</summary>
internal sealed record SeenRequest(Dictionary<string, string> Environ, byte[] Stdin, byte[] Data);

/// <summary>
/// A whole <see cref="FastCgiConnection"/> over in-memory pipes whose Responder and Filter handlers record what they
/// see (environ, body, data, read concurrently so any order of STDIN and DATA records is fine), and the check that
/// what they saw is exactly what <see cref="SplitRequests"/> sent, however it was cut.
/// </summary>
internal sealed class SplitConnection : IAsyncDisposable
{
    /// <summary>What every handler writes: nothing, so the CGI head alone.</summary>
    private static readonly byte[] ExpectedStdout = "Content-Type: text/html; charset=utf-8\r\n\r\n"u8.ToArray();

    private readonly Pipe _toApp = new();
    private readonly Pipe _fromApp = new();
    private readonly ConcurrentDictionary<int, SeenRequest> _seen = new();

    public SplitConnection(ThreadingLevel level)
    {
        Func<Handler> capture = () => new CaptureHandler(_seen);
        var options = new FastCgiServerOptions { ThreadingLevel = level };
        var policy = new ThreadingPolicy(options);
        var settings = policy.ConnectionSettings(options, NullLogger.Instance, new RequestAdmission(policy.MaxConcurrentRequests, 0, () => { }));
        var application = new HandlerApplication(
            new Dictionary<Role, Func<Handler>> { [Role.Responder] = capture, [Role.Filter] = capture },
            RequestType.Default,
            RequestLimits.Default);
        var connection = new FastCgiConnection(new Transport(_toApp.Reader, _fromApp.Writer), application, settings, 1, () => _toApp.Writer.Complete(new IOException("aborted")));
        Run = Task.Run(async () =>
        {
            await connection.RunAsync().ConfigureAwait(false);
            await _fromApp.Writer.CompleteAsync().ConfigureAwait(false);
        });
    }

    /// <summary>The connection's read loop; it ends when the input ends or the connection closes itself.</summary>
    public Task Run { get; }

    /// <summary>
    /// Generates up to <paramref name="maxRequests"/> requests (distinct ids), sends them cut and interleaved as
    /// <paramref name="choices"/> says, and checks each response and what each handler saw.
    /// </summary>
    /// <returns>How many requests were sent.</returns>
    /// <exception cref="FuzzInvariantException">A handler saw anything but what was sent, or a response is wrong.</exception>
    public async Task<int> RoundAsync(ISplitChoices choices, int maxRequests, bool allowFilter, TimeSpan timeout)
    {
        var count = 1 + choices.Next(maxRequests);
        var first = choices.Next(ushort.MaxValue);
        var requests = new List<SplitRequest>();
        for (var i = 0; i < count; i++)
        {
            // 7919 is prime and does not divide 65535, so the ids are distinct.
            var id = (ushort)(1 + ((first + (i * 7919)) % ushort.MaxValue));
            requests.Add(SplitRequests.Generate(choices, id, allowFilter));
        }

        var writes = SplitRequests.Encode(choices, requests);
        _seen.Clear();
        using var cancel = new CancellationTokenSource(timeout);
        var send = SendAsync(writes, cancel.Token);
        var responses = await ReadResponsesAsync(requests.Select(request => request.Id).ToHashSet(), cancel.Token).ConfigureAwait(false);
        await send.ConfigureAwait(false);

        foreach (var request in requests)
        {
            Check(request, responses[request.Id]);
        }

        return count;
    }

    public async ValueTask DisposeAsync()
    {
        await _toApp.Writer.CompleteAsync().ConfigureAwait(false);
        await Run.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        await _fromApp.Reader.CompleteAsync().ConfigureAwait(false);
    }

    private void Check(SplitRequest request, (byte[] Stdout, byte[] End) response)
    {
        var what = $"request {request.Id} ({request.Role}, {request.Pairs.Count} pairs, {request.Stdin.Length} body bytes, {request.Data.Length} data bytes)";
        FuzzInvariantException.Check(response.End.AsSpan().SequenceEqual(new byte[8]), $"{what}: END_REQUEST is {Convert.ToHexString(response.End)}, not complete with status 0");
        FuzzInvariantException.Check(response.Stdout.AsSpan().SequenceEqual(ExpectedStdout), $"{what}: the handler failed: {System.Text.Encoding.UTF8.GetString(response.Stdout)}");
        FuzzInvariantException.Check(_seen.TryGetValue(request.Id, out var seen), $"{what}: no handler saw it");
        var expected = request.Environ();
        FuzzInvariantException.Check(seen!.Environ.Count == expected.Count, $"{what}: the handler saw {seen.Environ.Count} variables, not {expected.Count}");
        foreach (var (name, value) in expected)
        {
            FuzzInvariantException.Check(seen.Environ.TryGetValue(name, out var actual), $"{what}: the variable '{Shorten(name)}' ({name.Length} chars) is missing");
            FuzzInvariantException.Check(actual == value, $"{what}: the variable '{Shorten(name)}' is '{Shorten(actual!)}' ({actual!.Length} chars), not '{Shorten(value)}' ({value.Length} chars)");
        }

        FuzzInvariantException.Check(seen.Stdin.AsSpan().SequenceEqual(request.Stdin), $"{what}: the handler read a body of {seen.Stdin.Length} bytes that differs from the one sent");
        FuzzInvariantException.Check(seen.Data.AsSpan().SequenceEqual(request.Data), $"{what}: the handler read data of {seen.Data.Length} bytes that differs from the data sent");
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "...";

    private async Task SendAsync(List<byte[]> writes, CancellationToken cancellationToken)
    {
        foreach (var write in writes)
        {
            await _toApp.Writer.WriteAsync(write, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Reads records until every id in <paramref name="pending"/> got END_REQUEST; STDOUT collected per id.</summary>
    private async Task<Dictionary<ushort, (byte[] Stdout, byte[] End)>> ReadResponsesAsync(HashSet<ushort> pending, CancellationToken cancellationToken)
    {
        var stdout = pending.ToDictionary(id => id, _ => new MemoryStream());
        var done = new Dictionary<ushort, (byte[] Stdout, byte[] End)>();
        while (pending.Count > 0)
        {
            ReadResult result;
            try
            {
                result = await _fromApp.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                throw new FuzzInvariantException($"No END_REQUEST for request(s) {string.Join(", ", pending)} in time");
            }

            var buffer = result.Buffer;
            while (FcgiRecords.TryTake(ref buffer, out var record))
            {
                if (record.Type == FcgiRecords.Stdout && stdout.TryGetValue(record.RequestId, out var output))
                {
                    output.Write(record.Content);
                }
                else if (record.Type == FcgiRecords.EndRequest && pending.Remove(record.RequestId))
                {
                    done[record.RequestId] = (stdout[record.RequestId].ToArray(), record.Content);
                }
            }

            _fromApp.Reader.AdvanceTo(buffer.Start, buffer.End);
            FuzzInvariantException.Check(pending.Count == 0 || !result.IsCompleted, $"The connection closed before END_REQUEST of request(s) {string.Join(", ", pending)}");
        }

        return done;
    }

    private sealed class CaptureHandler(ConcurrentDictionary<int, SeenRequest> seen) : Handler
    {
        public override async ValueTask ProcessAsync(Request request, CancellationToken cancellationToken)
        {
            var fastCgi = (FastCgiRequest)request;
            var environ = new Dictionary<string, string>(request.Environ, StringComparer.Ordinal);
            var body = ReadAllAsync(request.Body, cancellationToken);
            var data = ReadAllAsync(fastCgi.Data, cancellationToken);
            seen[fastCgi.RequestId] = new SeenRequest(environ, await body.ConfigureAwait(false), await data.ConfigureAwait(false));
        }

        private static async Task<byte[]> ReadAllAsync(Stream stream, CancellationToken cancellationToken)
        {
            var copy = new MemoryStream();
            await stream.CopyToAsync(copy, cancellationToken).ConfigureAwait(false);
            return copy.ToArray();
        }
    }
}

/// <summary>The two in-memory pipes as the connection's transport.</summary>
internal sealed record Transport(PipeReader Input, PipeWriter Output) : IDuplexPipe;
