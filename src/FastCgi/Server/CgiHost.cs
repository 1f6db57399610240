using System.Buffers;
using System.Collections;
using System.IO.Pipelines;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;

namespace FastCgi.Server;

/// <summary>
/// The CGI fallback (RFC 3875) for any <see cref="IFastCgiApplication"/>: the one request of a plain CGI call, served
/// as a Responder request on a FastCGI connection in memory, so that the application runs exactly as under FastCGI,
/// with the same limits. The environment becomes the request's PARAMS and standard input its body (CONTENT_LENGTH
/// bytes: RFC 3875 section 4.2, the web server need not close it); its STDOUT goes to standard output, its STDERR to
/// standard error, and its application status (END_REQUEST) is the exit code.
/// </summary>
public static class CgiHost
{
    private const ushort RequestId = 1;

    // As large as a STDIN record can be.
    private const int BodyChunkSize = 65535;

    /// <summary>Serves the CGI call this process was started for, from its environment and standard streams.</summary>
    /// <param name="application">What serves the request; it must play the Responder role.</param>
    /// <param name="options">The limits and logging that apply; the listening and threading options do not.</param>
    /// <param name="cancellationToken">Aborts the request (its <see cref="FastCgiRequestContext.Aborted"/> fires).</param>
    /// <returns>The exit code: the request's application status, or 1 when the response was broken off.</returns>
    /// <exception cref="InvalidOperationException"><paramref name="application"/> does not play the Responder role.</exception>
    public static Task<int> RunAsync(IFastCgiApplication application, FastCgiHostOptions? options = null, CancellationToken cancellationToken = default)
    {
        var environ = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry variable in Environment.GetEnvironmentVariables())
        {
            environ[(string)variable.Key] = (string?)variable.Value ?? "";
        }

        return RunAsync(
            application,
            options ?? new FastCgiHostOptions(),
            environ,
            Console.OpenStandardInput(),
            Console.OpenStandardOutput(),
            Console.OpenStandardError(),
            cancellationToken);
    }

    /// <summary>Serves one CGI request from <paramref name="environ"/> and the given streams.</summary>
    internal static async Task<int> RunAsync(
        IFastCgiApplication application,
        FastCgiHostOptions options,
        IReadOnlyDictionary<string, string> environ,
        Stream stdin,
        Stream stdout,
        Stream stderr,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(application);
        if (!application.Accepts(Role.Responder))
        {
            throw new InvalidOperationException("Started as a CGI program, but the application does not play the Responder role.");
        }

        var loggers = options.LoggerFactory ?? NullLoggerFactory.Instance;
        var policy = new ThreadingPolicy(options);
        var admission = new RequestAdmission(policy.MaxConcurrentRequests, options.MaxRequests, static () => { });
        var settings = policy.ConnectionSettings(options, loggers.CreateLogger("FastCgi.Connection"), admission);
        var toApplication = new Pipe();
        var fromApplication = new Pipe();
        var served = new OneRequest(application);

        // Nothing to close by force: nothing checks timeouts here (the web server times its CGI programs out), and
        // after a failed response the connection's read loop ends by itself.
        var connection = new FastCgiConnection(
            new Transport(toApplication.Reader, fromApplication.Writer), served, settings, id: 0, abortTransport: static () => { });
        var serving = ServeAsync(connection, fromApplication.Writer);
        using var aborting = cancellationToken.UnsafeRegister(static state => ((FastCgiConnection)state!).AbortAll(AbortReason.WebServer), connection);

        // Not awaited: once the response is complete, the rest of standard input no longer matters.
        _ = SendAsync(toApplication.Writer, environ, stdin);
        var exitCode = await ReceiveAsync(fromApplication.Reader, stdout, stderr, connection).ConfigureAwait(false);
        await serving.ConfigureAwait(false);
        await served.Returned.ConfigureAwait(false);
        return exitCode;
    }

    private static async Task ServeAsync(FastCgiConnection connection, PipeWriter output)
    {
        await connection.RunAsync().ConfigureAwait(false);

        // The connection is closed: what it sent is all there is.
        await output.CompleteAsync().ConfigureAwait(false);
    }

    /// <summary>BEGIN_REQUEST, the environment as PARAMS, then CONTENT_LENGTH bytes of standard input as STDIN.</summary>
    private static async Task SendAsync(PipeWriter output, IReadOnlyDictionary<string, string> environ, Stream stdin)
    {
        try
        {
            Span<byte> begin = stackalloc byte[BeginRequestBody.Length];
            new BeginRequestBody(Role.Responder, flags: 0).WriteTo(begin);
            RecordWriter.WriteRecord(output, RecordType.BeginRequest, RequestId, begin);
            var pairs = new ArrayBufferWriter<byte>();
            foreach (var (name, value) in environ)
            {
                NameValueWriter.Write(pairs, Encoding.UTF8.GetBytes(name), Encoding.UTF8.GetBytes(value));
            }

            RecordWriter.WriteStream(output, RecordType.Params, RequestId, pairs.WrittenSpan);
            RecordWriter.WriteEndOfStream(output, RecordType.Params, RequestId);
            var left = environ.TryGetValue("CONTENT_LENGTH", out var header) && long.TryParse(header, out var length) && length > 0 ? length : 0;
            var chunk = new byte[(int)Math.Min(left, BodyChunkSize)];
            while (left > 0)
            {
                if ((await output.FlushAsync().ConfigureAwait(false)).IsCompleted)
                {
                    return;
                }

                var read = await stdin.ReadAsync(chunk.AsMemory(0, (int)Math.Min(left, chunk.Length))).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                RecordWriter.WriteRecord(output, RecordType.Stdin, RequestId, chunk.AsSpan(0, read));
                left -= read;
            }

            RecordWriter.WriteEndOfStream(output, RecordType.Stdin, RequestId);
            await output.FlushAsync().ConfigureAwait(false);
        }
        catch (IOException)
        {
            // Standard input failed: the web server is gone, and so is the connection for the request.
            await output.CompleteAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Copies STDOUT and STDERR out until END_REQUEST; returns the exit code.</summary>
    private static async Task<int> ReceiveAsync(PipeReader input, Stream stdout, Stream stderr, FastCgiConnection connection)
    {
        try
        {
            while (true)
            {
                var result = await input.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                var ended = false;
                var exitCode = 1;
                while (!ended && RecordReader.TryReadRecord(ref buffer, out var header, out var content))
                {
                    switch (header.Type)
                    {
                        case RecordType.Stdout:
                            await CopyAsync(content, stdout).ConfigureAwait(false);
                            break;
                        case RecordType.Stderr:
                            await CopyToErrorAsync(content, stderr).ConfigureAwait(false);
                            break;
                        case RecordType.EndRequest:
                            var end = EndRequestBody.ReadFrom(content.FirstSpan.Length >= EndRequestBody.Length ? content.FirstSpan : content.ToArray());
                            exitCode = end.ProtocolStatus == ProtocolStatus.RequestComplete ? end.AppStatus : 1;
                            ended = true;
                            break;
                    }
                }

                await stdout.FlushAsync().ConfigureAwait(false);
                input.AdvanceTo(buffer.Start, buffer.End);
                if (ended)
                {
                    return exitCode;
                }

                if (result.IsCompleted)
                {
                    // Closed without END_REQUEST: the response was broken off after it started (spec 5.5).
                    return 1;
                }
            }
        }
        catch (IOException)
        {
            // The web server closed standard output: nobody is left to answer.
            connection.AbortAll(AbortReason.ConnectionLost);
            return 1;
        }
        finally
        {
            await input.CompleteAsync().ConfigureAwait(false);
        }
    }

    private static async ValueTask CopyAsync(ReadOnlySequence<byte> content, Stream destination)
    {
        foreach (var segment in content)
        {
            await destination.WriteAsync(segment).ConfigureAwait(false);
        }
    }

    private static async ValueTask CopyToErrorAsync(ReadOnlySequence<byte> content, Stream stderr)
    {
        try
        {
            await CopyAsync(content, stderr).ConfigureAwait(false);
            await stderr.FlushAsync().ConfigureAwait(false);
        }
        catch (IOException)
        {
            // The error log is gone; the response still matters.
        }
    }

    private sealed class Transport(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input => input;

        public PipeWriter Output => output;
    }

    /// <summary>The application, and when it returned from the request (after the request ended, it may still run).</summary>
    private sealed class OneRequest(IFastCgiApplication application) : IFastCgiApplication
    {
        private readonly TaskCompletionSource _returned = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private volatile bool _started;

        /// <summary>Completes when the application returned, or at once when the request never started.</summary>
        public Task Returned => _started ? _returned.Task : Task.CompletedTask;

        public bool Accepts(Role role) => application.Accepts(role);

        public async ValueTask ProcessRequestAsync(FastCgiRequestContext request)
        {
            _started = true;
            try
            {
                await application.ProcessRequestAsync(request).ConfigureAwait(false);
            }
            finally
            {
                _returned.TrySetResult();
            }
        }
    }
}
