using System.Buffers;
using System.IO.Pipelines;

namespace FastCgi.Connection;

/// <summary>
/// A request's FCGI_STDOUT or FCGI_STDERR stream as a <see cref="PipeWriter"/>. Bytes collect in a pooled buffer
/// owned by the request and become records at a flush, or with END_REQUEST when the request completes, so that a
/// buffered response and its END_REQUEST leave in one send. Reused by the connection's next request.
/// </summary>
internal sealed class RecordStreamWriter(ConnectionOutput output, RecordType type, FastCgiRequestContext request) : PipeWriter
{
    private byte[] _buffer = [];
    private int _length;

    /// <summary>Whether anything was sent on the stream, so that it needs its empty end record (spec 5.3).</summary>
    public bool Used { get; private set; }

    /// <summary>The bytes written and not yet flushed.</summary>
    public ReadOnlyMemory<byte> Pending => _buffer.AsMemory(0, _length);

    /// <summary>Starts the stream of a new request.</summary>
    public void Reset()
    {
        _length = 0;
        Used = false;
    }

    /// <summary>Forgets the pending bytes once they were written; returns the buffer when the request is done.</summary>
    public void Clear(bool release)
    {
        _length = 0;
        if (release && _buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }
    }

    /// <inheritdoc />
    public override void Advance(int bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bytes, _buffer.Length - _length);
        _length += bytes;
        Used |= bytes > 0;
    }

    /// <inheritdoc />
    public override Memory<byte> GetMemory(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return _buffer.AsMemory(_length);
    }

    /// <inheritdoc />
    public override Span<byte> GetSpan(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return _buffer.AsSpan(_length);
    }

    /// <inheritdoc />
    public override void CancelPendingFlush()
    {
        // A flush waits only for the connection's socket, which the connection's own timeouts watch.
    }

    /// <summary>Nothing to do: the request's end of the stream goes out with END_REQUEST (<see cref="FastCgiRequestContext.CompleteAsync"/>).</summary>
    public override void Complete(Exception? exception = null)
    {
    }

    /// <summary>
    /// Sends the pending bytes as records. After the request ended, nothing of it may reach the web server (spec
    /// 5.5; its id may already be another request's): output is dropped and errors go to the log.
    /// </summary>
    public override async ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        if (request.HasEnded)
        {
            if (type == RecordType.Stderr && _length > 0)
            {
                request.LogErrorAfterEnd(_buffer.AsSpan(0, _length));
            }

            _length = 0;
            return new FlushResult(isCanceled: false, isCompleted: true);
        }

        if (_length > 0)
        {
            await output.WriteStreamAsync(type, request.Id, _buffer.AsMemory(0, _length), cancellationToken).ConfigureAwait(false);
            _length = 0;
        }

        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        return default;
    }

    private void Reserve(int sizeHint)
    {
        var needed = _length + Math.Max(sizeHint, 1);
        if (needed <= _buffer.Length)
        {
            return;
        }

        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, Math.Max(4096, _buffer.Length * 2)));
        _buffer.AsSpan(0, _length).CopyTo(bigger);
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
        }

        _buffer = bigger;
    }
}
