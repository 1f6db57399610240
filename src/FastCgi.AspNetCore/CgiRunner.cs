using System.Collections;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.Logging;

namespace FastCgi.AspNetCore;

/// <summary>
/// The one request of a plain CGI run (RFC 3875): the CGI variables from the environment, the body from standard
/// input (exactly CONTENT_LENGTH bytes, 4.2: the web server need not close it), the response to standard output.
/// </summary>
internal static class CgiRunner
{
    /// <returns>The exit code: 0, or 1 when the response was broken off after it started (the web server logs it).</returns>
    public static async Task<int> RunAsync<TContext>(IHttpApplication<TContext> application, ServerSettings settings, ILogger logger, CancellationToken stopping)
        where TContext : notnull
    {
        var environ = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry variable in Environment.GetEnvironmentVariables())
        {
            environ[(string)variable.Key] = (string?)variable.Value ?? "";
        }

        var length = long.TryParse(environ.GetValueOrDefault("CONTENT_LENGTH"), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var contentLength) ? contentLength : 0;
        await using var stdin = Console.OpenStandardInput();
        await using var stdout = Console.OpenStandardOutput();
        var body = PipeReader.Create(new LengthLimitedStream(stdin, length));
        var output = PipeWriter.Create(stdout, new StreamPipeWriterOptions(leaveOpen: true));
        var features = new RequestFeatures(settings);
        features.Initialize(environ, body, output, stopping);
        var (context, error, outcome) = await HttpApplicationRunner.RunAsync(application, features, logger).ConfigureAwait(false);
        try
        {
            await output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            await output.CompleteAsync().ConfigureAwait(false);
        }
        catch (IOException)
        {
            // The web server closed our standard output: nothing more can reach it.
            outcome = HttpApplicationRunner.Outcome.Failed;
        }

        await HttpApplicationRunner.FinishAsync(application, features, context, error, logger).ConfigureAwait(false);
        return outcome == HttpApplicationRunner.Outcome.Failed ? 1 : 0;
    }

    /// <summary>Standard input up to CONTENT_LENGTH bytes.</summary>
    private sealed class LengthLimitedStream(Stream inner, long length) : Stream
    {
        private long _left = length;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var read = _left == 0 ? 0 : inner.Read(buffer[..(int)Math.Min(buffer.Length, _left)]);
            _left -= read;
            return read;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = _left == 0 ? 0 : await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _left)], cancellationToken).ConfigureAwait(false);
            _left -= read;
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
