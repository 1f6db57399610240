using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;

namespace FastCgi.Testing;

/// <summary>A web server's side of FastCGI over a real socket (TCP or Unix).</summary>
public sealed class FcgiTestClient : FcgiPeer
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;

    private FcgiTestClient(Socket socket, NetworkStream stream)
        : base(PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true)))
    {
        _socket = socket;
        _stream = stream;
    }

    public static async Task<FcgiTestClient> ConnectAsync(EndPoint endPoint)
    {
        var socket = endPoint is UnixDomainSocketEndPoint
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(endPoint);
        return new FcgiTestClient(socket, new NetworkStream(socket, ownsSocket: true));
    }

    public override async Task SendAsync(byte[] bytes) => await _stream.WriteAsync(bytes).AsTask().WaitAsync(Timeout);

    public void ShutdownSend() => _socket.Shutdown(SocketShutdown.Send);

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await _stream.DisposeAsync();
    }
}
