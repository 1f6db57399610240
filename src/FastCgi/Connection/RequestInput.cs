using System.Buffers;
using System.IO.Pipelines;

namespace FastCgi.Connection;

/// <summary>
/// One input stream of a request (FCGI_STDIN or FCGI_DATA): the pipe the read loop fills while the application
/// reads it, with backpressure at the pipe's threshold. Only the read loop writes it.
/// </summary>
internal sealed class RequestInput(PipeOptions options)
{
    private readonly Pipe _pipe = new(options);

    public PipeReader Reader => _pipe.Reader;

    /// <summary>Whether the stream ended (its empty record arrived, or it was cut).</summary>
    public bool Ended { get; private set; }

    /// <summary>Bytes received so far.</summary>
    public long Length { get; private set; }

    /// <summary>Ready for a new request: only once both ends of the pipe are done.</summary>
    public bool TryReset()
    {
        try
        {
            _pipe.Reset();
            Ended = false;
            Length = 0;
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>Ends the stream, with <paramref name="error"/> for the reader when it was cut.</summary>
    public void End(Exception? error = null)
    {
        Ended = true;
        _pipe.Writer.Complete(error);
    }

    /// <summary>
    /// Passes one record's content on; an empty record ends the stream (spec 3.3). Completes at once unless the
    /// reader has the pipe's threshold unread: then the read loop waits for it, which slows the web server down
    /// instead of growing memory.
    /// </summary>
    public ValueTask FeedAsync(in ReadOnlySequence<byte> content, out bool waits)
    {
        waits = false;
        if (content.IsEmpty)
        {
            End();
            return ValueTask.CompletedTask;
        }

        Length += content.Length;
        try
        {
            foreach (var segment in content)
            {
                _pipe.Writer.Write(segment.Span);
            }

            var flush = _pipe.Writer.FlushAsync();
            if (flush.IsCompleted)
            {
                flush.GetAwaiter().GetResult();
                return ValueTask.CompletedTask;
            }

            waits = true;
            return AwaitFlushAsync(flush);
        }
        catch (InvalidOperationException)
        {
            // The stream was already ended (an aborted request, or an empty record came twice); the bytes are dropped.
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>Counts bytes that are dropped rather than fed (a body past its limit).</summary>
    public void Count(long bytes) => Length += bytes;

    private static async ValueTask AwaitFlushAsync(ValueTask<FlushResult> flush)
    {
        try
        {
            await flush.ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            // Ended meanwhile; the bytes are dropped.
        }
    }
}
