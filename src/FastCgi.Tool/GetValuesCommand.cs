using System.Buffers;
using System.CommandLine;
using System.Net.Sockets;
using System.Text;
using FastCgi.Protocol;

namespace FastCgi.Tool;

/// <summary><c>fcgi get-values ADDRESS</c>: asks FCGI_GET_VALUES (spec 4.1) and prints the answer, one NAME=VALUE a line.</summary>
internal static class GetValuesCommand
{
    /// <summary>How long to wait for the answer before sending the empty FCGI_GET_VALUES that libfcgi needs.</summary>
    private static readonly TimeSpan NudgeAfter = TimeSpan.FromSeconds(1);

    public static Command Create()
    {
        var address = new Argument<string>("ADDRESS") { Description = Help.Address };
        var names = new Option<string[]>("--name", "-n")
        {
            Description = "A variable to ask for (default: FCGI_MAX_CONNS, FCGI_MAX_REQS, FCGI_MPXS_CONNS); repeatable.",
        };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Trace the records on standard error." };
        var timeout = new Option<double>("--timeout") { Description = "Seconds to wait for the answer.", DefaultValueFactory = _ => 10 };
        var command = new Command("get-values", "Ask the application's FCGI_GET_VALUES and print each NAME=VALUE it answers. "
            + "Exit code: 0 answered, 2 unreachable, 3 no answer.")
        {
            address, names, verbose, timeout,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            var asked = result.GetValue(names) is { Length: > 0 } given ? given : [FastCgiConstants.MaxConns, FastCgiConstants.MaxReqs, FastCgiConstants.MpxsConns];
            return await RunAsync(AppAddress.Parse(result.GetValue(address)!), asked, result.GetValue(verbose), TimeSpan.FromSeconds(result.GetValue(timeout)), cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> RunAsync(AppAddress address, string[] names, bool verbose, TimeSpan timeLimit, CancellationToken cancellationToken)
    {
        var stderr = Console.Error;
        AppConnector connector;
        try
        {
            connector = AppConnector.Open(address, quiet: true);
        }
        catch (Exception e) when (e is IOException or SocketException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            await stderr.WriteLineAsync($"fcgi: cannot start '{address.Text}': {e.Message}").ConfigureAwait(false);
            return ExitCodes.Unreachable;
        }

        await using (connector)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(timeLimit);
            Socket socket;
            try
            {
                socket = await connector.ConnectAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                await stderr.WriteLineAsync($"fcgi: cannot connect to {address.Text}: {e.Message}").ConfigureAwait(false);
                return ExitCodes.Unreachable;
            }

            using var channel = new RecordChannel(socket, verbose ? new RecordTrace(stderr) : null);
            var request = new ArrayBufferWriter<byte>();
            RecordWriter.WriteRecord(request, RecordType.GetValues, FastCgiConstants.NullRequestId, FastCgiRequestSpec.EncodePairs(names.Select(n => new KeyValuePair<string, string>(n, ""))));
            try
            {
                await channel.SendAsync(request.WrittenMemory, timeout.Token).ConfigureAwait(false);
                var first = channel.ReceiveAsync(timeout.Token).AsTask();
                if (await Task.WhenAny(first, Task.Delay(NudgeAfter, timeout.Token)).ConfigureAwait(false) != first)
                {
                    // libfcgi 2.4 reads on for the next record's header before it answers a management record that
                    // ended its read, so it answers only once more bytes come: an empty FCGI_GET_VALUES (answered
                    // with an empty result, spec 4.1) pushes the first one through.
                    var nudge = new ArrayBufferWriter<byte>();
                    RecordWriter.WriteRecord(nudge, RecordType.GetValues, FastCgiConstants.NullRequestId, []);
                    await channel.SendAsync(nudge.WrittenMemory, timeout.Token).ConfigureAwait(false);
                }

                var next = await first.ConfigureAwait(false);
                while (next is { } record)
                {
                    if (record.Header.Type != RecordType.GetValuesResult)
                    {
                        next = await channel.ReceiveAsync(timeout.Token).ConfigureAwait(false);
                        continue;
                    }

                    var collector = new PairPrinter(new StringBuilder());
                    NameValueReader.Parse(record.Content.Span, ref collector);
                    await Console.Out.WriteAsync(collector.Text.ToString()).ConfigureAwait(false);
                    return ExitCodes.Completed;
                }

                await stderr.WriteLineAsync("fcgi: the application closed the connection without FCGI_GET_VALUES_RESULT").ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or IOException or ProtocolException or OperationCanceledException)
            {
                var why = e is OperationCanceledException ? $"no answer within {timeLimit.TotalSeconds} s" : e.Message;
                await stderr.WriteLineAsync($"fcgi: no FCGI_GET_VALUES_RESULT: {why}").ConfigureAwait(false);
            }

            return ExitCodes.Incomplete;
        }
    }

    private readonly struct PairPrinter(StringBuilder text) : INameValueHandler
    {
        public StringBuilder Text => text;

        public void OnPair(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
        {
            text.Append(Encoding.UTF8.GetString(name)).Append('=').Append(Encoding.UTF8.GetString(value)).Append('\n');
        }
    }
}
