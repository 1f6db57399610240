using System.Buffers;
using System.IO.Pipelines;

namespace FastCgi.Connection;

/// <summary>
/// One input stream of a request (FCGI_STDIN or FCGI_DATA): the pipe the read loop fills while the application
/// reads it, with backpressure at the pipe's threshold. Only the read loop writes it. A stream that ends empty
/// before the application got its reader (every GET) never touches the pipe: its reader is one that reads the end.
/// </summary>
internal sealed class RequestInput(PipeOptions options)
{
    private readonly Pipe _pipe = new(options);
    private readonly EndedReader _ended = new();

    // Set by the read loop only, before the application is started (which publishes them to its thread).
    private bool _endedEmpty;
    private bool _handedOut;

    public PipeReader Reader => _endedEmpty ? _ended : _pipe.Reader;

    /// <summary>Whether the stream ended (its empty record arrived, or it was cut).</summary>
    public bool Ended { get; private set; }

    /// <summary>Bytes received so far.</summary>
    public long Length { get; private set; }

    /// <summary>The application is about to start and may take the reader: from now on the stream goes through the pipe.</summary>
    public void HandOut() => _handedOut = true;

    /// <summary>Ready for a new request: only once both ends of the pipe are done.</summary>
    public bool TryReset()
    {
        if (_endedEmpty)
        {
            // The pipe was never used since its last reset.
            _endedEmpty = false;
            _ended.Reset();
        }
        else
        {
            try
            {
                _pipe.Reset();
            }
            catch (InvalidOperationException)
            {
                return false;
            }
        }

        _handedOut = false;
        Ended = false;
        Length = 0;
        return true;
    }

    /// <summary>Ends the stream, with <paramref name="error"/> for the reader when it was cut.</summary>
    public void End(Exception? error = null)
    {
        Ended = true;
        if (error is null && Length == 0 && !_handedOut)
        {
            _endedEmpty = true;
            return;
        }

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

    /// <summary>The reader of a stream that ended empty: every read is the end, as the pipe's reader would say.</summary>
    private sealed class EndedReader : PipeReader
    {
        private bool _canceled;
        private bool _completed;

        public void Reset()
        {
            _canceled = false;
            _completed = false;
        }

        public override bool TryRead(out ReadResult result)
        {
            result = Read();
            return true;
        }

        public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return new(Read());
        }

        public override void AdvanceTo(SequencePosition consumed)
        {
        }

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
        {
        }

        public override void CancelPendingRead() => _canceled = true;

        public override void Complete(Exception? exception = null) => _completed = true;

        private ReadResult Read()
        {
            if (_completed)
            {
                throw new InvalidOperationException("Reading is not allowed after the reader was completed.");
            }

            var canceled = _canceled;
            _canceled = false;
            return new ReadResult(ReadOnlySequence<byte>.Empty, canceled, isCompleted: true);
        }
    }
}
