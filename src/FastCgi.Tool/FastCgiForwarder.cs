using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using FastCgi.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace FastCgi.Tool;

/// <summary>
/// Forwards HTTP requests to a FastCGI application as nginx's <c>fastcgi_pass</c> does with <c>fastcgi_keep_conn on</c>
/// and an upstream <c>keepalive</c>: FCGI_KEEP_CONN on connections from an <see cref="UpstreamPool"/>, PARAMS from
/// <see cref="CgiParams"/>, the body streamed as it comes (nginx buffers it first), the CGI response turned into an
/// HTTP response and streamed back. A client that goes away aborts the request:
/// FCGI_ABORT_REQUEST, between records, then the connection is closed once the application ends it (or after 5 s),
/// never reused; a client gone before anything was sent aborts nothing.
/// </summary>
internal sealed class FastCgiForwarder(UpstreamPool pool, string documentRoot, TextWriter? log)
{
    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Transfer-Encoding", "Upgrade", "Proxy-Connection", "TE", "Trailer",
    };

    private long _requests;

    /// <summary>The PARAMS nginx's <c>fastcgi_params</c> would send for <paramref name="context"/>'s request.</summary>
    public CgiParams ParamsFor(HttpContext context)
    {
        var request = context.Request;
        var connection = context.Connection;
        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget is { Length: > 0 } raw ? raw : request.Path + request.QueryString;
        var headers = new List<KeyValuePair<string, string>>();
        foreach (var (name, values) in request.Headers)
        {
            foreach (var value in values)
            {
                headers.Add(new(name, value ?? ""));
            }
        }

        return CgiParams.ForRequest(new RequestLine
        {
            Method = request.Method,
            Target = target,
            Protocol = request.Protocol,
            Scheme = request.Scheme,
            ContentType = request.ContentType,
            ContentLength = request.ContentLength,
            DocumentRoot = documentRoot,
            RemoteAddress = connection.RemoteIpAddress?.ToString() ?? "",
            RemotePort = connection.RemotePort,
            ServerAddress = connection.LocalIpAddress?.ToString() ?? "",
            ServerPort = connection.LocalPort,
            ServerName = request.Host.Host,
            Headers = headers,
        });
    }

    /// <summary>
    /// Asks the authorizer: <see langword="null"/> when it denied and its response was sent to the client, else
    /// the <c>Variable-NAME</c> headers it granted with (spec 6.3).
    /// </summary>
    public async Task<List<KeyValuePair<string, string>>?> AuthorizeAsync(HttpContext context)
    {
        var parameters = ParamsFor(context);
        parameters.Set("CONTENT_LENGTH", "");
        var stdout = new ArrayBufferWriter<byte>();
        var outcome = await ExchangeAsync(
            new FastCgiRequestSpec { Role = Role.Authorizer, KeepConnection = true, Params = parameters.Pairs },
            canRetry: true,
            bytes =>
            {
                stdout.Write(bytes.Span);
                return ValueTask.CompletedTask;
            },
            context.RequestAborted).ConfigureAwait(false);
        var head = new CgiResponseHead();
        var body = outcome.Completed ? head.Feed(stdout.WrittenMemory) : default;
        if (!outcome.Completed || !head.IsComplete)
        {
            context.Response.StatusCode = StatusCodes.Status502BadGateway;
            return null;
        }

        if (head.StatusCode == StatusCodes.Status200OK)
        {
            return head.Headers
                .Where(h => h.Key.StartsWith("Variable-", StringComparison.OrdinalIgnoreCase))
                .Select(h => new KeyValuePair<string, string>(h.Key["Variable-".Length..], h.Value))
                .ToList();
        }

        await SendHeadAsync(context, head).ConfigureAwait(false);
        await context.Response.Body.WriteAsync(body).ConfigureAwait(false);
        return null;
    }

    /// <summary>Sends the request to the application as a responder and its answer to the client.</summary>
    public async Task ForwardAsync(HttpContext context, IEnumerable<KeyValuePair<string, string>> extra)
    {
        var parameters = ParamsFor(context);
        foreach (var (name, value) in extra)
        {
            parameters.Set(name, value);
        }

        var head = new CgiResponseHead();
        var clientGone = false;
        var outcome = await ExchangeAsync(
            new FastCgiRequestSpec { KeepConnection = true, Params = parameters.Pairs, Body = context.Request.Body },
            canRetry: context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == false,
            async bytes =>
            {
                if (clientGone)
                {
                    return;
                }

                try
                {
                    if (!head.IsComplete)
                    {
                        bytes = head.Feed(bytes);
                        if (!head.IsComplete)
                        {
                            return;
                        }

                        await SendHeadAsync(context, head).ConfigureAwait(false);
                    }

                    await context.Response.Body.WriteAsync(bytes, context.RequestAborted).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
                {
                    clientGone = true;
                }
            },
            context.RequestAborted).ConfigureAwait(false);

        if (context.RequestAborted.IsCancellationRequested)
        {
            return;
        }

        if (!outcome.Completed || !head.IsComplete)
        {
            if (!context.Response.HasStarted)
            {
                context.Response.StatusCode = StatusCodes.Status502BadGateway;
                context.Response.ContentType = "text/plain";
                await context.Response.WriteAsync("502 Bad Gateway: the FastCGI application did not complete the response\n").ConfigureAwait(false);
            }
            else
            {
                // The head went out: only cutting the connection tells the client the body is incomplete.
                context.Abort();
            }
        }
    }

    private static Task SendHeadAsync(HttpContext context, CgiResponseHead head)
    {
        var response = context.Response;
        response.StatusCode = head.StatusCode;
        if (head.Reason is { } reason)
        {
            context.Features.Get<IHttpResponseFeature>()!.ReasonPhrase = reason;
        }

        foreach (var (name, value) in head.Headers)
        {
            if (!HopByHop.Contains(name))
            {
                response.Headers.Append(name, value);
            }
        }

        return response.StartAsync();
    }

    /// <summary>
    /// One request on a pooled connection, sent and answered concurrently, aborted when the client goes. A kept
    /// connection can turn out closed, or refused on (the application reached its request limit or is stopping),
    /// before anything of the request came back: then the request is sent once more on a new connection, when it has
    /// no body that was already consumed (<paramref name="canRetry"/>), as nginx retries on a kept connection.
    /// </summary>
    private async Task<RequestOutcome> ExchangeAsync(FastCgiRequestSpec spec, bool canRetry, Func<ReadOnlyMemory<byte>, ValueTask> stdout, CancellationToken clientAborted)
    {
        var number = Interlocked.Increment(ref _requests);
        var target = spec.Params.FirstOrDefault(p => p.Key == "REQUEST_URI").Value;
        while (true)
        {
            Upstream upstream;
            try
            {
                upstream = await pool.RentAsync(clientAborted).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                Log($"#{number} {target}: cannot connect to the application: {e.Message}");
                return default;
            }

            var (outcome, heard) = await ExchangeOnAsync(upstream, spec, number, target, stdout, clientAborted).ConfigureAwait(false);
            if (upstream.Reused && !heard && !outcome.Completed && canRetry && !clientAborted.IsCancellationRequested)
            {
                Log($"#{number} {target}: nothing came back on the kept connection; sending it again on a new one");
                continue;
            }

            return outcome;
        }
    }

    /// <summary>The request on <paramref name="upstream"/>, which goes back to the pool after; whether any of its STDOUT or STDERR came.</summary>
    private async Task<(RequestOutcome Outcome, bool Heard)> ExchangeOnAsync(Upstream upstream, FastCgiRequestSpec spec, long number, string? target, Func<ReadOnlyMemory<byte>, ValueTask> stdout, CancellationToken clientAborted)
    {
        var channel = upstream.Channel;
        var heard = false;
        var reusable = false;
        try
        {
            using var readLimit = new CancellationTokenSource();

            // Stops the request's sends once the exchange is over. Not the client's token: a record cut short when
            // the client goes away would make the application read FCGI_ABORT_REQUEST as the rest of that record.
            using var sendStop = new CancellationTokenSource();
            using var bodyStop = CancellationTokenSource.CreateLinkedTokenSource(clientAborted, sendStop.Token);
            if (clientAborted.IsCancellationRequested)
            {
                // Nothing went out: the connection is as it was taken, and the application has no request to abort.
                Log($"#{number} {target}: the client went away before the request was sent");
                reusable = true;
                return (default, false);
            }

            // The head goes out whole before an abort can follow it: FCGI_ABORT_REQUEST for a request the application
            // never began is ignored (spec 3.3), and its FCGI_END_REQUEST would never come.
            try
            {
                await spec.SendHeadAsync(channel, 1, sendStop.Token).ConfigureAwait(false);
            }
            catch (SocketException e)
            {
                Log($"#{number} {target}: {e.Message}");
                return (default, false);
            }

            Log($"#{number} {spec.Role} {target}: forwarded{(upstream.Reused ? " on a kept connection" : " on a new connection")}");
            var sending = spec.SendBodyAsync(channel, 1, bodyStop.Token, sendStop.Token);
            long abortedAt = 0;
            Task? aborting = null;
            var onAbort = clientAborted.Register(() =>
            {
                abortedAt = Stopwatch.GetTimestamp();
                aborting = AbortAsync(channel, number, target, readLimit, sendStop.Token);
            });
            RequestOutcome outcome = default;
            try
            {
                outcome = await ResponseReader.ReadAsync(channel, 1, Heard(stdout), Heard(StderrAsync), readLimit.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or IOException or ProtocolException or FormatException or OperationCanceledException)
            {
                Log($"#{number} {target}: {e.Message}");
            }

            // A request whose STDIN was not all sent (the application answered first) leaves the connection mid-stream.
            var sentWhole = sending.IsCompletedSuccessfully;
            var timedOut = readLimit.IsCancellationRequested;
            await sendStop.CancelAsync().ConfigureAwait(false);
            try
            {
                await sending.ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or BadHttpRequestException)
            {
                // The application answered before taking the whole body, or the client stopped sending it.
            }

            await onAbort.DisposeAsync().ConfigureAwait(false);
            if (aborting is not null)
            {
                await aborting.ConfigureAwait(false);
            }

            reusable = outcome.Ended && sentWhole && abortedAt == 0;
            if (abortedAt != 0)
            {
                var after = Stopwatch.GetElapsedTime(abortedAt).TotalMilliseconds;
                Log(outcome.Ended
                    ? string.Create(CultureInfo.InvariantCulture, $"#{number} {target}: aborted; the application ended it {after:F0} ms after FCGI_ABORT_REQUEST (appStatus {outcome.AppStatus})")
                    : timedOut
                        ? string.Create(CultureInfo.InvariantCulture, $"#{number} {target}: aborted; no FCGI_END_REQUEST {after:F0} ms after FCGI_ABORT_REQUEST, connection closed")
                        : string.Create(CultureInfo.InvariantCulture, $"#{number} {target}: aborted; the application closed the connection {after:F0} ms after FCGI_ABORT_REQUEST"));
            }
            else
            {
                Log(string.Create(CultureInfo.InvariantCulture, $"#{number} {target}: {(outcome.Ended ? "ended, appStatus " + outcome.AppStatus + ", " + RecordTrace.StatusName(outcome.ProtocolStatus) : "no FCGI_END_REQUEST")}"));
            }

            return (outcome, heard);
        }
        finally
        {
            pool.Return(upstream, reusable);
        }

        Func<ReadOnlyMemory<byte>, ValueTask> Heard(Func<ReadOnlyMemory<byte>, ValueTask> next) => bytes =>
        {
            heard = true;
            return next(bytes);
        };

        ValueTask StderrAsync(ReadOnlyMemory<byte> bytes)
        {
            Log($"#{number} {target}: stderr: {Encoding.UTF8.GetString(bytes.Span).TrimEnd('\n')}", always: true);
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>
    /// FCGI_ABORT_REQUEST after the records already sent, never inside one; the response is waited for 5 s from now,
    /// not from the send, which waits behind a body record the application is not taking.
    /// </summary>
    private async Task AbortAsync(RecordChannel channel, long number, string? target, CancellationTokenSource readLimit, CancellationToken sendStop)
    {
        Log($"#{number} {target}: the client went away; sending FCGI_ABORT_REQUEST");
        readLimit.CancelAfter(TimeSpan.FromSeconds(5));
        var record = new ArrayBufferWriter<byte>();
        RecordWriter.WriteRecord(record, RecordType.AbortRequest, 1, []);
        try
        {
            await channel.SendAsync(record.WrittenMemory, sendStop).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The connection is gone already (the application sees that as the abort), or the exchange ended first.
        }
    }

    private void Log(string line, bool always = false)
    {
        var writer = log ?? (always ? Console.Error : null);
        if (writer is not null)
        {
            lock (writer)
            {
                writer.WriteLine("fcgi: " + line);
            }
        }
    }
}
