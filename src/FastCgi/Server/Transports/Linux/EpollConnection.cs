using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;

namespace FastCgi.Server.Transports.Linux;

/// <summary>
/// An accepted socket served by an <see cref="EpollEngine"/>, as a duplex pipe. The loop thread that sees input
/// reads it into the input pipe and flushes, which runs the connection's read loop, and the application, right
/// there; the application's output is sent by the thread that flushes it. Both pipes use inline schedulers: no
/// thread switch anywhere on the way of a request that completes synchronously.
/// </summary>
internal sealed class EpollConnection : ITransportConnection, IThreadPoolWorkItem, IDisposable
{
    private const int ReadSize = 16 * 1024;

    // After the web server closes its side, what a lingering close reads at most.
    private const long MaxLingerBytes = 1024 * 1024;

    private const int Idle = 0;
    private const int Reading = 1;
    private const int ReadingAndMore = 2;
    private const int Ended = 3;

    // Segments sent by one sendmsg(2) at most: 1 MiB of the output pipe's 16 KiB segments (IOV_MAX is 1024).
    private const int MaxGathered = 64;

    [ThreadStatic]
    private static byte[]? _discard;

    [ThreadStatic]
    private static MemoryHandle[]? _pins;

    private readonly EpollEngine _engine;
    private readonly Socket _socket;
    private readonly TimeProvider _time;
    private readonly Pipe _input;
    private readonly Pipe _output;
    private readonly Task _sending;
    private readonly TaskCompletionSource _inputEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private int _readState;
    private volatile bool _peerClosed;
    private bool _discarding;
    private long _discarded;
    private uint _queuedEvents;
    private TaskCompletionSource? _writable;
    private bool _reset;

    public EpollConnection(EpollEngine engine, Socket socket, TimeProvider time)
    {
        _engine = engine;
        _socket = socket;
        _time = time;
        if (socket.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
        {
            socket.NoDelay = true;
        }

        socket.Blocking = false;
        RemoteEndPoint = socket.RemoteEndPoint;
        Descriptor = (int)socket.Handle;

        // Inline both ways: the read loop runs inside the flush of what was read, the sending inside the flush of what
        // was written. 64 KiB segments take a whole STDIN record (nginx sends 65528 content bytes) at once.
        _input = new Pipe(new PipeOptions(
            readerScheduler: PipeScheduler.Inline,
            writerScheduler: PipeScheduler.Inline,
            pauseWriterThreshold: 1024 * 1024,
            resumeWriterThreshold: 512 * 1024,
            useSynchronizationContext: false));
        _output = new Pipe(new PipeOptions(
            readerScheduler: PipeScheduler.Inline,
            writerScheduler: PipeScheduler.Inline,
            pauseWriterThreshold: 1024 * 1024,
            resumeWriterThreshold: 512 * 1024,
            minimumSegmentSize: 16 * 1024,
            useSynchronizationContext: false));
        _sending = SendLoopAsync();
    }

    /// <summary>The socket's file descriptor, while it is open.</summary>
    public int Descriptor { get; }

    /// <summary>Slot and generation in the engine's table: what epoll hands back with each event.</summary>
    public ulong Token { get; set; }

    /// <inheritdoc />
    public PipeReader Input => _input.Reader;

    /// <inheritdoc />
    public PipeWriter Output => _output.Writer;

    /// <inheritdoc />
    public EndPoint? RemoteEndPoint { get; }

    /// <inheritdoc />
    public bool HasUnreadInput
    {
        get
        {
            try
            {
                return _socket.Available > 0;
            }
            catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
            {
                return true;
            }
        }
    }

    /// <summary>A hold on the descriptor for a system call made with <see cref="Descriptor"/>; see <see cref="DescriptorLease"/>.</summary>
    public DescriptorLease LeaseDescriptor() => new(_socket);

    /// <summary>What epoll reported, handled on the loop thread.</summary>
    public void OnEvents(uint events)
    {
        if ((events & (Native.EPOLLOUT | Native.EPOLLERR | Native.EPOLLHUP)) != 0 && Volatile.Read(ref _writable) is not null)
        {
            Interlocked.Exchange(ref _writable, null)?.TrySetResult();
        }

        if ((events & (Native.EPOLLRDHUP | Native.EPOLLERR | Native.EPOLLHUP)) != 0)
        {
            // The end came with (or before) the data this event announces: a short read no longer means the socket
            // is empty, and no other event will come for the end, so reading goes on until read(2) says 0.
            _peerClosed = true;
        }

        if ((events & (Native.EPOLLIN | Native.EPOLLRDHUP | Native.EPOLLERR | Native.EPOLLHUP)) != 0)
        {
            StartReading();
        }
    }

    /// <summary>What epoll reported, handled on the thread pool (the engine is cautious after a stall).</summary>
    public void QueueEvents(uint events)
    {
        if (Interlocked.Or(ref _queuedEvents, events) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    /// <inheritdoc />
    void IThreadPoolWorkItem.Execute() => OnEvents(Interlocked.Exchange(ref _queuedEvents, 0));

    /// <inheritdoc />
    public void Abort()
    {
        // Shut down first, so that nothing the ending read loop's requests still write gets out; the shutdown also
        // makes epoll report the end to a send waiting for room. Then the read loop ends at once.
        Shutdown(SocketShutdown.Both);
        _input.Reader.CancelPendingRead();
    }

    /// <inheritdoc />
    public void Reset()
    {
        _reset = true;
        try
        {
            _socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
            // Closed already: a plain close is all there is.
        }

        Dispose();
    }

    /// <summary>
    /// Closes gently: sends what is left, then, when <paramref name="linger"/>, shuts down the sending side and reads
    /// what the web server still sends for a moment (Apache sends the empty STDIN in a write of its own; closing with
    /// unread input would reset the connection and lose the response).
    /// </summary>
    public async ValueTask CloseAsync(bool linger)
    {
        await _output.Writer.CompleteAsync().ConfigureAwait(false);
        await _sending.ConfigureAwait(false);
        if (!linger || _reset)
        {
            return;
        }

        Shutdown(SocketShutdown.Send);
        _discarding = true;
        try
        {
            await _inputEnded.Task.WaitAsync(TimeSpan.FromSeconds(2), _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // The web server kept the connection open: close it anyway.
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _engine.Remove(this);
        _socket.Dispose();
        Interlocked.Exchange(ref _writable, null)?.TrySetResult();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        Dispose();
        await _output.Writer.CompleteAsync().ConfigureAwait(false);
        await _sending.ConfigureAwait(false);
        await _input.Reader.CompleteAsync().ConfigureAwait(false);
    }

    private void Shutdown(SocketShutdown how)
    {
        try
        {
            _socket.Shutdown(how);
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
            // Gone already.
        }
    }

    private void StartReading()
    {
        while (true)
        {
            var state = Volatile.Read(ref _readState);
            if (state == Idle)
            {
                if (Interlocked.CompareExchange(ref _readState, Reading, Idle) == Idle)
                {
                    ReadAvailable();
                    return;
                }
            }
            else if (state == Reading)
            {
                // The thread reading will read again before it stops (edge-triggered: this arrival gets no other event).
                if (Interlocked.CompareExchange(ref _readState, ReadingAndMore, Reading) == Reading)
                {
                    return;
                }
            }
            else
            {
                return;
            }
        }
    }

    /// <summary>
    /// Reads until the socket is empty, flushing each read into the input pipe (which runs the read loop). Runs
    /// while the state says Reading; a flush that waits for the read loop to catch up continues in
    /// <see cref="ContinueAfterFlushAsync"/>.
    /// </summary>
    private void ReadAvailable()
    {
        while (true)
        {
            Volatile.Write(ref _readState, Reading);
            var read = ReadOnce(out var requested, out var error);
            if (read > 0)
            {
                if (!_discarding)
                {
                    _input.Writer.Advance((int)read);
                    var flush = _input.Writer.FlushAsync();
                    if (!flush.IsCompletedSuccessfully)
                    {
                        _ = ContinueAfterFlushAsync(flush);
                        return;
                    }

                    _discarding = flush.Result.IsCompleted;
                }
                else if ((_discarded += read) > MaxLingerBytes)
                {
                    EndInput(null);
                    return;
                }

                if (read < requested && !_peerClosed && Interlocked.CompareExchange(ref _readState, Idle, Reading) == Reading)
                {
                    return;
                }

                continue;
            }

            if (read == 0)
            {
                EndInput(null);
                return;
            }

            if (error == Native.EINTR)
            {
                continue;
            }

            if (error == Native.EAGAIN)
            {
                if (Interlocked.CompareExchange(ref _readState, Idle, Reading) == Reading)
                {
                    return;
                }

                continue;
            }

            EndInput(new IOException($"Reading from the web server failed: {new SocketException(error).Message}", new SocketException(error)));
            return;
        }
    }

    private async Task ContinueAfterFlushAsync(ValueTask<FlushResult> flush)
    {
        try
        {
            _discarding = (await flush.ConfigureAwait(false)).IsCompleted;
        }
        catch (Exception exception) when (exception is InvalidOperationException or OperationCanceledException)
        {
            _discarding = true;
        }

        ReadAvailable();
    }

    /// <summary>One read(2) into the input pipe, or into a scratch buffer once nobody reads the pipe; -1 with the error.</summary>
    private unsafe nint ReadOnce(out int requested, out int error)
    {
        error = 0;
        requested = 0;
        using var lease = LeaseDescriptor();
        if (!lease.Held)
        {
            return 0;
        }

        Span<byte> buffer = _discarding ? (_discard ??= new byte[ReadSize]) : _input.Writer.GetSpan(ReadSize);
        requested = buffer.Length;
        fixed (byte* pointer = buffer)
        {
            var read = Native.Read(Descriptor, pointer, buffer.Length);
            if (read < 0)
            {
                error = Native.LastError;
            }

            return read;
        }
    }

    /// <summary>The web server closed, the socket failed or was closed: the read loop sees the end; nothing more is read.</summary>
    private void EndInput(Exception? error)
    {
        Volatile.Write(ref _readState, Ended);
        if (!_discarding)
        {
            _input.Writer.Complete(error);
        }

        _inputEnded.TrySetResult();
    }

    private async Task SendLoopAsync()
    {
        var reader = _output.Reader;
        Exception? failure = null;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                Task? writable;
                try
                {
                    writable = SendAvailable(ref buffer);
                }
                finally
                {
                    // Only what the kernel took: the rest comes back with the next read, along with anything new.
                    reader.AdvanceTo(buffer.Start);
                }

                if (writable is not null)
                {
                    await writable.ConfigureAwait(false);
                    continue;
                }

                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (IOException exception)
        {
            failure = exception;
        }

        await reader.CompleteAsync(failure).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends <paramref name="buffer"/> while the socket takes it, slicing off what was sent; when the socket is full,
    /// returns what completes once epoll says it has room (null when all was sent).
    /// </summary>
    private Task? SendAvailable(ref ReadOnlySequence<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            var sent = SendOnce(buffer, out var error);
            if (sent > 0)
            {
                buffer = buffer.Slice(sent);
                continue;
            }

            if (error == Native.EINTR)
            {
                continue;
            }

            if (error != Native.EAGAIN)
            {
                throw new IOException($"Writing to the web server failed: {new SocketException(error).Message}", new SocketException(error));
            }

            // Armed before trying again: room made after the failed send raises an edge that completes it.
            var writable = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _writable, writable);
            sent = SendOnce(buffer, out error);
            if (sent > 0)
            {
                Interlocked.CompareExchange(ref _writable, null, writable);
                buffer = buffer.Slice(sent);
                continue;
            }

            if (error == Native.EAGAIN)
            {
                return writable.Task;
            }
        }

        return null;
    }

    /// <summary>
    /// One send(2) of a single segment, or one sendmsg(2) of up to <see cref="MaxGathered"/> segments: a 1 GiB
    /// response costs one call per megabyte rather than one per 16 KiB segment. -1 with the error.
    /// </summary>
    private unsafe nint SendOnce(in ReadOnlySequence<byte> buffer, out int error)
    {
        error = 0;
        using var lease = LeaseDescriptor();
        if (!lease.Held)
        {
            error = Native.EBADF; // closed under us (a reset)
            return -1;
        }

        nint sent;
        if (buffer.IsSingleSegment)
        {
            fixed (byte* pointer = buffer.FirstSpan)
            {
                sent = Native.Send(Descriptor, pointer, buffer.FirstSpan.Length);
            }
        }
        else
        {
            // The segments are pinned for the call only; the handles live in a per-thread array, the vectors on the stack.
            var pins = _pins ??= new MemoryHandle[MaxGathered];
            var vectors = stackalloc Native.IoVector[MaxGathered];
            var count = 0;
            try
            {
                foreach (var segment in buffer)
                {
                    if (count == MaxGathered)
                    {
                        break;
                    }

                    if (!segment.IsEmpty)
                    {
                        pins[count] = segment.Pin();
                        vectors[count] = new Native.IoVector { Base = (byte*)pins[count].Pointer, Length = (nuint)segment.Length };
                        count++;
                    }
                }

                sent = Native.SendGathered(Descriptor, vectors, count);
            }
            finally
            {
                for (var i = 0; i < count; i++)
                {
                    pins[i].Dispose();
                }
            }
        }

        if (sent < 0)
        {
            error = Native.LastError;
        }

        return sent;
    }
}
