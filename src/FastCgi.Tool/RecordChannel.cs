using System.Buffers;
using System.Net.Sockets;
using FastCgi.Protocol;

namespace FastCgi.Tool;

/// <summary>One record read from the application: its header and content (valid until the next read).</summary>
internal readonly record struct Record(RecordHeader Header, ReadOnlyMemory<byte> Content);

/// <summary>
/// A connection to a FastCGI application seen as records: whole records are sent, and records are cut out of the
/// bytes received with the library's <see cref="RecordReader"/>. Optionally traces every record both ways.
/// </summary>
internal sealed class RecordChannel : IDisposable
{
    private const int BufferSize = 256 * 1024;

    private readonly Socket _socket;
    private readonly RecordTrace? _trace;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private byte[] _buffer = new byte[BufferSize];
    private int _start;
    private int _end;

    public RecordChannel(Socket socket, RecordTrace? trace)
    {
        _socket = socket;
        _trace = trace;
    }

    /// <summary>Sends bytes holding whole records; concurrent senders are serialised so records never interleave.</summary>
    public async ValueTask SendAsync(ReadOnlyMemory<byte> records, CancellationToken cancellationToken)
    {
        _trace?.Sent(records.Span);
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            while (!records.IsEmpty)
            {
                var sent = await _socket.SendAsync(records, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                records = records[sent..];
            }
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Reads the next record, or <see langword="null"/> when the application closed the connection.</summary>
    /// <exception cref="ProtocolException">The application sent a record of another protocol version.</exception>
    /// <exception cref="EndOfStreamException">The connection ended inside a record.</exception>
    public async ValueTask<Record?> ReceiveAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var sequence = new ReadOnlySequence<byte>(_buffer, _start, _end - _start);
            if (RecordReader.TryReadRecord(ref sequence, out var header, out var content))
            {
                var offset = _start + FastCgiConstants.HeaderLength;
                _start += header.TotalLength;
                var record = new Record(header, _buffer.AsMemory(offset, (int)content.Length));
                _trace?.Received(header, record.Content.Span);
                return record;
            }

            if (_start > 0 && _start == _end)
            {
                _start = _end = 0;
            }
            else if (_end == _buffer.Length)
            {
                // Keep what is unread at the front; records are at most 65535 + 263 bytes, so the buffer always fits one.
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }

            var read = await _socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                if (_end != _start)
                {
                    throw new EndOfStreamException($"The application closed the connection inside a record ({_end - _start} bytes of it came).");
                }

                return null;
            }

            _end += read;
        }
    }

    /// <summary>
    /// Whether nothing is waiting to be read, here or on the socket, and the other end has not closed: what an idle
    /// connection must be before it carries another request.
    /// </summary>
    public bool IsQuiet()
    {
        try
        {
            return _start == _end && !_socket.Poll(0, SelectMode.SelectRead);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        _socket.Dispose();
        _sendLock.Dispose();
        _buffer = [];
    }
}
