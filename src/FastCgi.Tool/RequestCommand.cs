using System.Buffers;
using System.CommandLine;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using FastCgi.Protocol;
using Microsoft.AspNetCore.WebUtilities;

namespace FastCgi.Tool;

/// <summary><c>fcgi request ADDRESS [PATH]</c>: one FastCGI request, the response printed like <c>curl -i</c>.</summary>
internal static class RequestCommand
{
    public static Command Create()
    {
        var address = new Argument<string>("ADDRESS") { Description = Help.Address };
        var path = new Argument<string>("PATH") { Description = "The request target, path and query (default /).", DefaultValueFactory = _ => "/" };
        var method = new Option<string?>("--method", "-X") { Description = "The request method (default GET, or POST with --body)." };
        var headers = new Option<string[]>("--header", "-H") { Description = "A request header 'Name: value', sent as HTTP_NAME (Content-Type as CONTENT_TYPE); repeatable.", AllowMultipleArgumentsPerToken = false };
        var parameters = new Option<string[]>("--param", "-p") { Description = "A PARAMS variable NAME=VALUE, set after the defaults (replacing one of them); repeatable." };
        var body = new Option<string?>("--body", "-d") { Description = "Send FILE as the body (FCGI_STDIN); '-' reads standard input." };
        var contentType = new Option<string?>("--content-type") { Description = "CONTENT_TYPE of the body." };
        var role = new Option<Role>("--role") { Description = "The role: Responder, Authorizer or Filter.", DefaultValueFactory = _ => Role.Responder };
        var data = new Option<string?>("--data") { Description = "The filter's file, sent as FCGI_DATA (with FCGI_DATA_LAST_MOD and FCGI_DATA_LENGTH)." };
        var keepConn = new Option<bool>("--keep-conn") { Description = "Set FCGI_KEEP_CONN in BEGIN_REQUEST." };
        var raw = new Option<bool>("--raw") { Description = "Print the CGI response bytes (FCGI_STDOUT) as they come, instead of a status line, headers and body." };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Trace every record sent (>) and received (<) on standard error." };
        var root = new Option<string>("--document-root") { Description = "DOCUMENT_ROOT; SCRIPT_FILENAME is it followed by the path.", DefaultValueFactory = _ => "/var/www/html" };
        var timeout = new Option<double>("--timeout") { Description = "Seconds to wait for the whole response.", DefaultValueFactory = _ => 30 };

        var command = new Command("request", "Send one FastCGI request and print the response. Exit code: 0 the request completed, "
            + "2 the application could not be reached, 3 it ended the connection (or timed out) without FCGI_END_REQUEST, "
            + "4 it refused the request (FCGI_OVERLOADED, FCGI_CANT_MPX_CONN, FCGI_UNKNOWN_ROLE).")
        {
            address, path, method, headers, parameters, body, contentType, role, data, keepConn, raw, verbose, root, timeout,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            var options = new Options(
                AppAddress.Parse(result.GetValue(address)!),
                result.GetValue(path)!,
                result.GetValue(method),
                result.GetValue(headers) ?? [],
                result.GetValue(parameters) ?? [],
                result.GetValue(body),
                result.GetValue(contentType),
                result.GetValue(role),
                result.GetValue(data),
                result.GetValue(keepConn),
                result.GetValue(raw),
                result.GetValue(verbose),
                result.GetValue(root)!,
                TimeSpan.FromSeconds(result.GetValue(timeout)));
            return await RunAsync(options, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private sealed record Options(
        AppAddress Address, string Target, string? Method, string[] Headers, string[] Params, string? Body, string? ContentType,
        Role Role, string? Data, bool KeepConn, bool Raw, bool Verbose, string DocumentRoot, TimeSpan Timeout);

    private static async Task<int> RunAsync(Options o, CancellationToken cancellationToken)
    {
        var stderr = Console.Error;
        Stream? body = null;
        Stream? data = null;
        try
        {
            if (o.Body is not null)
            {
                body = await OpenBodyAsync(o.Body, cancellationToken).ConfigureAwait(false);
            }

            if (o.Data is not null)
            {
                data = File.OpenRead(o.Data);
            }
        }
        catch (IOException e)
        {
            await stderr.WriteLineAsync($"fcgi: {e.Message}").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        await using (body)
        await using (data)
        {
            var headers = new List<KeyValuePair<string, string>>();
            foreach (var header in o.Headers)
            {
                var colon = header.IndexOf(':', StringComparison.Ordinal);
                if (colon <= 0)
                {
                    await stderr.WriteLineAsync($"fcgi: a header is 'Name: value', not '{header}'").ConfigureAwait(false);
                    return ExitCodes.Usage;
                }

                headers.Add(new(header[..colon].Trim(), header[(colon + 1)..].Trim()));
            }

            var contentType = o.ContentType ?? headers.FirstOrDefault(h => h.Key.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)).Value;
            var target = o.Target.StartsWith('/') ? o.Target : "/" + o.Target;
            var request = new RequestLine
            {
                Method = o.Method ?? (body is null ? "GET" : "POST"),
                Target = target,
                ContentType = contentType,
                ContentLength = body?.Length,
                DocumentRoot = o.DocumentRoot,
                RemotePort = 0,
                Headers = [new("Host", "localhost"), .. headers.Where(h => !h.Key.Equals("Host", StringComparison.OrdinalIgnoreCase)), .. headers.Where(h => h.Key.Equals("Host", StringComparison.OrdinalIgnoreCase))],
            };
            var cgi = CgiParams.ForRequest(request);
            if (headers.Any(h => h.Key.Equals("Host", StringComparison.OrdinalIgnoreCase)))
            {
                cgi.Set("HTTP_HOST", headers.Last(h => h.Key.Equals("Host", StringComparison.OrdinalIgnoreCase)).Value);
            }

            if (data is not null)
            {
                cgi.Set("FCGI_DATA_LAST_MOD", new DateTimeOffset(File.GetLastWriteTimeUtc(o.Data!)).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
                cgi.Set("FCGI_DATA_LENGTH", data.Length.ToString(CultureInfo.InvariantCulture));
            }

            foreach (var param in o.Params)
            {
                var equals = param.IndexOf('=', StringComparison.Ordinal);
                if (equals <= 0)
                {
                    await stderr.WriteLineAsync($"fcgi: a parameter is NAME=VALUE, not '{param}'").ConfigureAwait(false);
                    return ExitCodes.Usage;
                }

                cgi.Set(param[..equals], param[(equals + 1)..]);
            }

            var spec = new FastCgiRequestSpec { Role = o.Role, KeepConnection = o.KeepConn, Params = cgi.Pairs, Body = body, Data = data };
            return await SendAsync(o, spec, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<int> SendAsync(Options o, FastCgiRequestSpec spec, CancellationToken cancellationToken)
    {
        var stderr = Console.Error;
        AppConnector connector;
        try
        {
            connector = AppConnector.Open(o.Address, quiet: true);
        }
        catch (Exception e) when (e is IOException or SocketException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            await stderr.WriteLineAsync($"fcgi: cannot start '{o.Address.Text}': {e.Message}").ConfigureAwait(false);
            return ExitCodes.Unreachable;
        }

        await using (connector)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(o.Timeout);
            Socket socket;
            try
            {
                socket = await connector.ConnectAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                await stderr.WriteLineAsync($"fcgi: cannot connect to {o.Address.Text}: {e.Message}").ConfigureAwait(false);
                return ExitCodes.Unreachable;
            }

            var trace = o.Verbose ? new RecordTrace(stderr) : null;
            if (trace is not null)
            {
                await stderr.WriteLineAsync($"* connected to {connector.EndPoint}").ConfigureAwait(false);
            }

            using var channel = new RecordChannel(socket, trace);
            var output = new ResponseOutput(Console.OpenStandardOutput(), o.Raw);
            var stderrStream = Console.OpenStandardError();
            var sending = spec.SendAsync(channel, 1, timeout.Token);
            RequestOutcome outcome;
            try
            {
                outcome = await ResponseReader.ReadAsync(
                    channel,
                    1,
                    output.WriteAsync,
                    async bytes => await stderrStream.WriteAsync(bytes, timeout.Token).ConfigureAwait(false),
                    timeout.Token).ConfigureAwait(false);
                await output.FinishAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or IOException or ProtocolException or FormatException or OperationCanceledException)
            {
                await output.FinishAsync().ConfigureAwait(false);
                var why = e is OperationCanceledException ? $"no answer within {o.Timeout.TotalSeconds} s" : e.Message;
                await stderr.WriteLineAsync($"fcgi: the request did not complete: {why}").ConfigureAwait(false);
                return ExitCodes.Incomplete;
            }

            // An application may answer before reading the whole body; what is left of it no longer matters.
            await timeout.CancelAsync().ConfigureAwait(false);
            try
            {
                await sending.ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
            {
                trace?.Note($"the request was not sent whole: {e.Message}");
            }

            if (!outcome.Ended)
            {
                await stderr.WriteLineAsync("fcgi: the application closed the connection without FCGI_END_REQUEST").ConfigureAwait(false);
                return ExitCodes.Incomplete;
            }

            if (!outcome.Completed)
            {
                await stderr.WriteLineAsync($"fcgi: the application refused the request: FCGI_{RecordTrace.StatusName(outcome.ProtocolStatus)}").ConfigureAwait(false);
                return ExitCodes.Rejected;
            }

            if (output.Malformed is { } problem)
            {
                await stderr.WriteLineAsync($"fcgi: the response is not a CGI response: {problem}").ConfigureAwait(false);
            }

            return ExitCodes.Completed;
        }
    }

    private static async Task<Stream> OpenBodyAsync(string path, CancellationToken cancellationToken)
    {
        if (path != "-")
        {
            return File.OpenRead(path);
        }

        // CONTENT_LENGTH comes before the body, so standard input is read to its end first.
        var copy = new MemoryStream();
        await Console.OpenStandardInput().CopyToAsync(copy, cancellationToken).ConfigureAwait(false);
        copy.Position = 0;
        return copy;
    }

    /// <summary>Writes the response: raw, or a status line and headers like an HTTP response, then the body as it comes.</summary>
    private sealed class ResponseOutput(Stream stdout, bool raw)
    {
        private readonly CgiResponseHead _head = new();
        private readonly ArrayBufferWriter<byte> _unparsed = new();

        public string? Malformed { get; private set; }

        public async ValueTask WriteAsync(ReadOnlyMemory<byte> bytes)
        {
            if (raw || Malformed is not null)
            {
                await stdout.WriteAsync(bytes).ConfigureAwait(false);
                return;
            }

            if (_head.IsComplete)
            {
                await stdout.WriteAsync(bytes).ConfigureAwait(false);
                return;
            }

            _unparsed.Write(bytes.Span);
            ReadOnlyMemory<byte> rest;
            try
            {
                rest = _head.Feed(bytes);
            }
            catch (FormatException e)
            {
                // Not a CGI head: show the bytes as they are rather than lose them.
                Malformed = e.Message;
                await stdout.WriteAsync(_unparsed.WrittenMemory).ConfigureAwait(false);
                return;
            }

            if (!_head.IsComplete)
            {
                return;
            }

            var text = new StringBuilder();
            text.Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {_head.StatusCode} {_head.Reason ?? ReasonPhrases.GetReasonPhrase(_head.StatusCode)}\r\n");
            foreach (var (name, value) in _head.Headers)
            {
                text.Append(CultureInfo.InvariantCulture, $"{name}: {value}\r\n");
            }

            text.Append("\r\n");
            await stdout.WriteAsync(Encoding.Latin1.GetBytes(text.ToString())).ConfigureAwait(false);
            await stdout.WriteAsync(rest).ConfigureAwait(false);
        }

        public async ValueTask FinishAsync()
        {
            if (!raw && Malformed is null && !_head.IsComplete && _unparsed.WrittenCount > 0)
            {
                Malformed = "the head never ended (no empty line)";
                await stdout.WriteAsync(_unparsed.WrittenMemory).ConfigureAwait(false);
            }

            await stdout.FlushAsync().ConfigureAwait(false);
        }
    }
}
