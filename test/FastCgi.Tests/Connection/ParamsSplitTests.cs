using FastCgi.Tests.Support;
using Xunit;
using static FastCgi.Testing.CgiVariables;
using static FastCgi.Testing.FcgiRecords;

namespace FastCgi.Tests.Connection;

/// <summary>
/// A PARAMS stream cut into several records (spec 3.4: a pair may straddle records) reaches the handler whole:
/// the symptoms seen with cgi-fcgi, which sends PARAMS in records of at most 8 KiB, and with raw clients.
/// </summary>
public sealed class ParamsSplitTests
{
    [Fact]
    public async Task Params_in_records_of_1000_and_100_bytes_keep_every_variable()
    {
        // A raw client's cut: 1,000 bytes, then the last 100. PAD (1 + 4 + 3 bytes of prefix and name) fills the
        // stream to exactly 1,100 bytes.
        var environ = Environ("/split");
        environ["PAD"] = new string('p', 1100 - NameValues(environ).Length - 8);
        Assert.Equal(1100, NameValues(environ).Length);

        var seen = await SendSplitAsync(NameValues(environ), 1000);

        Assert.Equal(Sorted(environ), Sorted(seen));
    }

    [Fact]
    public async Task A_9000_byte_cookie_in_8_KiB_params_records_reaches_the_handler()
    {
        var environ = Environ("/cookie", extra: new Dictionary<string, string> { ["HTTP_COOKIE"] = "big=" + Letters(8996) });

        var seen = await SendSplitAsync(NameValues(environ), 8192);

        Assert.Equal(Sorted(environ), Sorted(seen));
    }

    [Fact]
    public async Task A_100_KiB_value_in_8_KiB_params_records_reaches_the_handler_and_the_request_ends()
    {
        var environ = Environ("/big-value", extra: new Dictionary<string, string> { ["HTTP_X_BIG"] = Letters(100 * 1024) });

        var seen = await SendSplitAsync(NameValues(environ), 8192);

        Assert.Equal(Sorted(environ), Sorted(seen));
    }

    [Fact]
    public async Task A_stream_of_both_length_forms_cut_into_two_records_at_every_offset_reaches_the_handler_whole()
    {
        // Lengths of 127 and 128 in both places, so every cut falls once inside a one-byte prefix pair, inside a
        // four-byte prefix, between the two prefixes, inside a name and inside a value (spec 3.4).
        KeyValuePair<string, string>[] pairs =
        [
            new(new string('A', 127), new string('a', 128)),
            new(new string('B', 128), new string('b', 127)),
            new("C", ""),
            new(new string('D', 128), new string('d', 128)),
        ];
        var stream = NameValues(pairs);
        var expected = "captured " + string.Concat(pairs.Select(pair => $"{pair.Key}={pair.Value};"));
        await using var connection = new InMemoryConnection(() => new EnvironEcho());

        for (var cut = 1; cut < stream.Length; cut++)
        {
            byte[] records = [.. Begin(1), .. Record(Params, 1, stream.AsSpan(0, cut)), .. Record(Params, 1, stream.AsSpan(cut)), .. Record(Params, 1, []), .. Record(Stdin, 1, [])];
            await connection.WebServer.SendAsync(records);

            var response = await connection.WebServer.ReadResponseAsync(1);
            Assert.Equal("Content-Type: text/html; charset=utf-8\r\n\r\n" + expected, response.Text);
        }
    }

    /// <summary>
    /// Sends one request whose PARAMS stream is cut every <paramref name="recordSize"/> bytes, and returns the
    /// environ the handler saw once END_REQUEST arrived.
    /// </summary>
    private static async Task<Dictionary<string, string>> SendSplitAsync(byte[] stream, int recordSize)
    {
        var seen = new TaskCompletionSource<Dictionary<string, string>>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var connection = new InMemoryConnection(() => new EnvironCapture(seen));
        var records = new MemoryStream();
        records.Write(Begin(1));
        for (var at = 0; at < stream.Length; at += recordSize)
        {
            records.Write(Record(Params, 1, stream.AsSpan(at, Math.Min(recordSize, stream.Length - at))));
        }

        records.Write(Record(Params, 1, []));
        records.Write(Record(Stdin, 1, []));
        await connection.WebServer.SendAsync(records.ToArray());

        var response = await connection.WebServer.ReadResponseAsync(1);
        Assert.Equal("Content-Type: text/html; charset=utf-8\r\n\r\ncaptured", response.Text);
        Assert.Equal((0, 0), (response.AppStatus, response.ProtocolStatus));
        return await seen.Task.Within("the handler to see the PARAMS");
    }

    private static string Letters(int length) =>
        string.Create(length, 0, (span, _) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = (char)('a' + (i % 26));
            }
        });

    private static List<KeyValuePair<string, string>> Sorted(IEnumerable<KeyValuePair<string, string>> pairs) =>
        [.. pairs.OrderBy(pair => pair.Key, StringComparer.Ordinal)];

    // Writes the variables back in the order they came.
    private sealed class EnvironEcho : Handler
    {
        public override void Process(Request request)
        {
            request.Write("captured ");
            foreach (var pair in request.Environ)
            {
                request.Write($"{pair.Key}={pair.Value};");
            }
        }
    }

    private sealed class EnvironCapture(TaskCompletionSource<Dictionary<string, string>> seen) : Handler
    {
        public override void Process(Request request)
        {
            seen.SetResult(new Dictionary<string, string>(request.Environ, StringComparer.Ordinal));
            request.Write("captured");
        }
    }
}
