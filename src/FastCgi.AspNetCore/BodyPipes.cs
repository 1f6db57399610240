using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;

namespace FastCgi.AspNetCore;

/// <summary>
/// The request body as the application reads it: the connection's STDIN pipe, with ASP.NET Core's
/// <c>MaxRequestBodySize</c> enforced and the library's limit reported as ASP.NET Core reports one (413).
/// </summary>
internal sealed class RequestBodyReader(RequestFeatures owner, PipeReader body) : PipeReader
{
    private PipeReader _inner = body;
    private long _consumed;
    private ReadOnlySequence<byte> _buffer;

    /// <summary>Serves the next request on the connection, which reads <paramref name="next"/>.</summary>
    public void Reset(PipeReader next)
    {
        _inner = next;
        _consumed = 0;
        _buffer = default;
    }

    public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        owner.BodyReadStarting();
        ReadResult result;
        try
        {
            result = await _inner.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (RequestBodyTooLargeException exception)
        {
            throw TooLarge(exception.Limit);
        }

        return Checked(result);
    }

    public override bool TryRead(out ReadResult result)
    {
        owner.BodyReadStarting();
        bool read;
        try
        {
            read = _inner.TryRead(out result);
        }
        catch (RequestBodyTooLargeException exception)
        {
            throw TooLarge(exception.Limit);
        }

        if (read)
        {
            result = Checked(result);
        }

        return read;
    }

    public override void AdvanceTo(SequencePosition consumed)
    {
        _consumed += _buffer.Slice(0, consumed).Length;
        _inner.AdvanceTo(consumed);
    }

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        _consumed += _buffer.Slice(0, consumed).Length;
        _inner.AdvanceTo(consumed, examined);
    }

    public override void CancelPendingRead() => _inner.CancelPendingRead();

    public override void Complete(Exception? exception = null) => _inner.Complete(exception);

    private static BadHttpRequestException TooLarge(long limit) =>
        new($"The request body is larger than {limit} bytes.", StatusCodes.Status413PayloadTooLarge);

    private ReadResult Checked(ReadResult result)
    {
        if (owner.MaxRequestBodySizeValue is { } max && _consumed + result.Buffer.Length > max)
        {
            throw TooLarge(max);
        }

        _buffer = result.Buffer;
        return result;
    }
}

/// <summary>
/// The response body as the application writes it: the first write or flush starts the response (OnStarting,
/// then the CGI header block), a HEAD response's body is dropped, and the bytes go to the request's output pipe.
/// </summary>
internal sealed class ResponseBodyWriter(RequestFeatures owner) : PipeWriter
{
    private byte[]? _discard;
    private long _unflushed;

    /// <summary>Counted here: System.Text.Json sizes its flushes by it.</summary>
    public override bool CanGetUnflushedBytes => true;

    public override long UnflushedBytes => _unflushed;

    public override Memory<byte> GetMemory(int sizeHint = 0)
    {
        owner.StartResponse();
        return owner.SuppressBody ? Discard(sizeHint) : owner.Output.GetMemory(sizeHint);
    }

    public override Span<byte> GetSpan(int sizeHint = 0)
    {
        owner.StartResponse();
        return owner.SuppressBody ? Discard(sizeHint) : owner.Output.GetSpan(sizeHint);
    }

    /// <summary>Serves the next request on the connection.</summary>
    public void Reset() => _unflushed = 0;

    public override void Advance(int bytes)
    {
        if (!owner.SuppressBody)
        {
            owner.Output.Advance(bytes);
            owner.BodyWritten(bytes);
            _unflushed += bytes;
        }
    }

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        _unflushed = 0;
        return owner.HasStarted ? owner.FlushOutputAsync(responseComplete: false, cancellationToken) : StartAndFlushAsync(cancellationToken);
    }

    public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
    {
        if (!owner.HasStarted)
        {
            return StartAndWriteAsync(source, cancellationToken);
        }

        _unflushed = 0;
        if (owner.SuppressBody)
        {
            return ValueTask.FromResult(new FlushResult(isCanceled: false, isCompleted: false));
        }

        owner.Output.Write(source.Span);
        owner.BodyWritten(source.Length);
        return owner.FlushOutputAsync(responseComplete: false, cancellationToken);
    }

    public override void CancelPendingFlush() => owner.Output.CancelPendingFlush();

    /// <summary>The request ends when the application returns, not when it completes the writer.</summary>
    public override void Complete(Exception? exception = null)
    {
    }

    private byte[] Discard(int sizeHint) =>
        _discard is { } buffer && buffer.Length >= sizeHint ? buffer : _discard = new byte[Math.Max(sizeHint, 4096)];

    private async ValueTask<FlushResult> StartAndFlushAsync(CancellationToken cancellationToken)
    {
        await owner.StartResponseAsync(cancellationToken).ConfigureAwait(false);
        return await owner.FlushOutputAsync(responseComplete: false, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<FlushResult> StartAndWriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken)
    {
        await owner.StartResponseAsync(cancellationToken).ConfigureAwait(false);
        return await WriteAsync(source, cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>A body as a stream over a pipe; synchronous I/O only when <c>AllowSynchronousIO</c> allows it, as in Kestrel.</summary>
internal sealed class BodyStream(RequestFeatures owner, PipeReader? reader, PipeWriter? writer) : Stream
{
    public override bool CanRead => reader is not null;

    public override bool CanSeek => false;

    public override bool CanWrite => writer is not null;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        owner.CheckSynchronousIO();
        var rented = ArrayPool<byte>.Shared.Rent(buffer.Length);
        try
        {
            var read = ReadAsync(rented.AsMemory(0, buffer.Length)).AsTask().GetAwaiter().GetResult();
            rented.AsSpan(0, read).CopyTo(buffer);
            return read;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var pipe = reader ?? throw new NotSupportedException();
        while (true)
        {
            var result = await pipe.ReadAsync(cancellationToken).ConfigureAwait(false);
            var available = result.Buffer;
            if (result.IsCanceled)
            {
                pipe.AdvanceTo(available.Start);
                throw new OperationCanceledException("The read was canceled.");
            }

            if (!available.IsEmpty || result.IsCompleted)
            {
                var length = (int)Math.Min(buffer.Length, available.Length);
                available.Slice(0, length).CopyTo(buffer.Span);
                pipe.AdvanceTo(available.GetPosition(length));
                return length;
            }

            pipe.AdvanceTo(available.Start, available.End);
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        owner.CheckSynchronousIO();
        var pipe = writer ?? throw new NotSupportedException();
        pipe.Write(buffer);
        pipe.FlushAsync().AsTask().GetAwaiter().GetResult();
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        await (writer ?? throw new NotSupportedException()).WriteAsync(buffer, cancellationToken).ConfigureAwait(false);

    public override void Flush()
    {
        owner.CheckSynchronousIO();
        FlushAsync().GetAwaiter().GetResult();
    }

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (writer is not null)
        {
            await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
