using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace FastCgi.Server.Transports.Linux;

/// <summary>
/// Keeps a socket's descriptor from being closed during a system call made with its number: a reference on its
/// <see cref="SafeHandle"/>, so a close on another thread (a reset, a dispose) waits for the release instead of
/// freeing the number for a new socket that the call would then use. Taken with <c>using</c>; nothing is allocated.
/// </summary>
internal ref struct DescriptorLease
{
    private SafeHandle? _handle;

    /// <summary>Takes the reference, unless the socket is closed already (then <see cref="Held"/> is false).</summary>
    public DescriptorLease(Socket socket)
    {
        var added = false;
        try
        {
            var handle = socket.SafeHandle;
            handle.DangerousAddRef(ref added);
            _handle = handle;
        }
        catch (ObjectDisposedException)
        {
            // Closed: the descriptor's number may belong to another socket by now.
        }
    }

    /// <summary>Whether the descriptor is open until <see cref="Dispose"/>.</summary>
    public readonly bool Held => _handle is not null;

    public void Dispose()
    {
        _handle?.DangerousRelease();
        _handle = null;
    }
}
