using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;

namespace FastCgi.Server.Transports;

/// <summary>An accepted socket as a duplex pipe.</summary>
internal sealed class SocketConnection : ITransportConnection
{
    /// <summary>How long a gentle close reads what the web server still sends before it closes anyway.</summary>
    private static readonly TimeSpan LingerTime = TimeSpan.FromSeconds(2);

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly TimeProvider _time;

    /// <param name="socket">The accepted socket, which the connection owns.</param>
    /// <param name="time">The clock of the lingering close (<see cref="CloseAsync"/>): the host's.</param>
    public SocketConnection(Socket socket, TimeProvider time)
    {
        _time = time;
        if (socket.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
        {
            socket.NoDelay = true;
        }

        _socket = socket;
        RemoteEndPoint = socket.RemoteEndPoint;
        _stream = new NetworkStream(socket, ownsSocket: true);
        // Large reads: a 64 KiB STDIN record arrives in one or two receives instead of four or more.
        // Zero-byte reads: an idle connection waits for data without holding a buffer.
        Input = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 16 * 1024, leaveOpen: true, useZeroByteReads: true));
        Output = PipeWriter.Create(_stream, new StreamPipeWriterOptions(minimumBufferSize: 16 * 1024, leaveOpen: true));
    }

    /// <inheritdoc />
    public PipeReader Input { get; }

    /// <inheritdoc />
    public PipeWriter Output { get; }

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

    /// <inheritdoc />
    public void Abort() => _socket.Dispose();

    /// <summary>
    /// Closes abortively: with a zero linger time the close sends a TCP reset, which a web server reads as a failed
    /// response even where it takes a plain close for the end of one.
    /// </summary>
    public void Reset()
    {
        try
        {
            _socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
            // Closed already, or not a socket that lingers: a plain close is all there is.
        }

        _socket.Dispose();
    }

    /// <summary>
    /// Closes gently: the web server may still be sending the end of a request already answered (Apache sends the
    /// empty STDIN record in a write of its own). Closing with unread input would reset the connection and lose the
    /// response, so shut down the sending side and read what is left, for a moment, before closing.
    /// </summary>
    public async ValueTask CloseAsync(bool linger)
    {
        await Output.CompleteAsync().ConfigureAwait(false);
        if (!linger)
        {
            return;
        }

        _socket.Shutdown(SocketShutdown.Send);
        using var timeout = new CancellationTokenSource(LingerTime, _time);
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            for (var total = 0; total < 1024 * 1024;)
            {
                var read = await _socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    return;
                }

                total += read;
            }
        }
        catch (OperationCanceledException)
        {
            // The web server kept the connection open: close it anyway.
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync().ConfigureAwait(false);
        _socket.Dispose();
    }
}
