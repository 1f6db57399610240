using System.IO.Pipelines;

namespace FastCgi.Connection;

/// <summary>
/// The connection's output: whole records from any request, one writer at a time (spec 3.3: records of different
/// requests may interleave, bytes of one record may not). Flushing waits for the socket, so a slow web server
/// slows the handlers down instead of growing memory.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The lock never allocates a wait handle (no AvailableWaitHandle), so there is nothing to dispose.")]
internal sealed class ConnectionOutput(PipeWriter writer, TimeProvider time)
{
    private readonly SemaphoreSlim _lock = new(1, 1);
    private bool _failed;
    private long _flushingSince;

    /// <summary>When the flush in progress began (<see cref="TimeProvider.GetTimestamp"/>), or 0 when none is.</summary>
    public long FlushingSince => Volatile.Read(ref _flushingSince);

    /// <summary>Writes <paramref name="data"/> as records of the stream; nothing is sent until a flush.</summary>
    public async ValueTask WriteStreamAsync(RecordType type, ushort requestId, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfFailed();
            RecordWriter.WriteStream(writer, type, requestId, data.Span);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Sends what is written; completes when the socket took it.</summary>
    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await FlushLockedAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>
    /// Ends a request: its pending STDOUT and STDERR bytes, the empty STDOUT record (and STDERR's when it was used),
    /// then END_REQUEST (spec 5.1), in one send with whatever the request wrote before.
    /// </summary>
    public async ValueTask EndRequestAsync(ushort requestId, ReadOnlyMemory<byte> stdout, ReadOnlyMemory<byte> stderr, bool stderrUsed, int appStatus, ProtocolStatus status)
    {
        await _lock.WaitAsync().ConfigureAwait(false);
        try
        {
            ThrowIfFailed();
            RecordWriter.WriteStream(writer, RecordType.Stdout, requestId, stdout.Span);
            RecordWriter.WriteStream(writer, RecordType.Stderr, requestId, stderr.Span);
            RecordWriter.WriteEndOfStream(writer, RecordType.Stdout, requestId);
            if (stderrUsed)
            {
                RecordWriter.WriteEndOfStream(writer, RecordType.Stderr, requestId);
            }

            RecordWriter.WriteEndRequest(writer, requestId, appStatus, status);
            await FlushLockedAsync(CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Sends nothing more: later writes fail as on a closed connection.</summary>
    public async ValueTask CloseAsync()
    {
        await _lock.WaitAsync().ConfigureAwait(false);
        _failed = true;
        _lock.Release();
    }

    /// <summary>Refuses a request with END_REQUEST and a protocol status (spec 5.5).</summary>
    public ValueTask RefuseAsync(ushort requestId, ProtocolStatus status) => WriteAndFlushAsync(
        (requestId, status),
        static (w, s) => RecordWriter.WriteEndRequest(w, s.requestId, 0, s.status));

    /// <summary>Answers FCGI_GET_VALUES (spec 4.1).</summary>
    public ValueTask GetValuesResultAsync(IEnumerable<KeyValuePair<string, string>> values) => WriteAndFlushAsync(
        values,
        static (w, v) => RecordWriter.WriteGetValuesResult(w, v));

    /// <summary>Answers a management record of a type this version does not know (spec 4.2).</summary>
    public ValueTask UnknownTypeAsync(byte type) => WriteAndFlushAsync(
        type,
        static (w, t) => RecordWriter.WriteUnknownType(w, t));

    private async ValueTask WriteAndFlushAsync<TState>(TState state, Action<PipeWriter, TState> write)
    {
        await _lock.WaitAsync().ConfigureAwait(false);
        try
        {
            ThrowIfFailed();
            write(writer, state);
            await FlushLockedAsync(CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>
    /// While the read loop starts the requests of one read, the small responses their handlers finish with on its
    /// thread are sent together at <see cref="EndBatchAsync"/>: one send for many multiplexed requests.
    /// </summary>
    public void BeginBatch() => Volatile.Write(ref _batchThread, Environment.CurrentManagedThreadId);

    /// <summary>Ends the batch and sends what its requests deferred.</summary>
    public ValueTask EndBatchAsync()
    {
        Volatile.Write(ref _batchThread, 0);
        return _flushDeferred ? FlushAsync(CancellationToken.None) : ValueTask.CompletedTask;
    }

    private const int MaxDeferredBytes = 64 * 1024;
    private int _batchThread;
    private bool _flushDeferred;

    private async ValueTask FlushLockedAsync(CancellationToken cancellationToken)
    {
        ThrowIfFailed();

        // Deferred only on the batch's own thread and only while small, so a large response still streams.
        if (Volatile.Read(ref _batchThread) == Environment.CurrentManagedThreadId && writer.UnflushedBytes < MaxDeferredBytes)
        {
            _flushDeferred = true;
            return;
        }

        _flushDeferred = false;
        try
        {
            var flush = writer.FlushAsync(cancellationToken);
            if (!flush.IsCompleted)
            {
                // Only a flush that waits for the web server can pass the write timeout: timed from here, microseconds
                // after it began, and a flush the socket took at once costs no clock read.
                Volatile.Write(ref _flushingSince, time.GetTimestamp());
            }

            var result = await flush.ConfigureAwait(false);
            if (result.IsCompleted || result.IsCanceled)
            {
                _failed = true;
                throw new IOException("The web server connection is closed.");
            }
        }
        catch (Exception exception) when (exception is not IOException and not OperationCanceledException)
        {
            _failed = true;
            throw new IOException("Writing to the web server failed.", exception);
        }
        catch (IOException)
        {
            _failed = true;
            throw;
        }
        finally
        {
            Volatile.Write(ref _flushingSince, 0);
        }
    }

    private void ThrowIfFailed()
    {
        if (_failed)
        {
            throw new IOException("The web server connection is closed.");
        }
    }
}
