using System.Buffers.Binary;
using System.Net.Sockets;

namespace FastCgi.Server.Transports;

/// <summary>
/// The listen queue of the listening sockets as the kernel tells it: connections waiting to be accepted, and the
/// most it holds (the backlog). Linux gives both for a TCP socket (TCP_INFO); for a Unix socket nothing tells them
/// short of sock_diag netlink, so it is unknown there, as on other systems.
/// </summary>
internal readonly record struct ListenQueue(long Length, long Capacity)
{
    private const int IpProtoTcp = 6;
    private const int TcpInfo = 11;

    // struct tcp_info (linux/tcp.h): eight one-byte fields, then u32 tcpi_rto, tcpi_ato, tcpi_snd_mss, tcpi_rcv_mss,
    // tcpi_unacked, tcpi_sacked. On a listening socket the kernel puts the accept queue's length in tcpi_unacked and
    // its limit in tcpi_sacked (tcp_get_info), which php-fpm reports as "listen queue" and "listen queue len".
    private const int UnackedOffset = 24;
    private const int SackedOffset = 28;

    /// <summary>The sum over <paramref name="sockets"/>, or null when the kernel tells it for none of them.</summary>
    public static ListenQueue? Read(params ReadOnlySpan<Socket> sockets)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        ListenQueue? total = null;
        Span<byte> info = stackalloc byte[104];
        foreach (var socket in sockets)
        {
            try
            {
                if (socket.ProtocolType != ProtocolType.Tcp || socket.GetRawSocketOption(IpProtoTcp, TcpInfo, info) < SackedOffset + 4)
                {
                    continue;
                }
            }
            catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
            {
                // Closed by a stop, or not a TCP socket after all.
                continue;
            }

            var length = BinaryPrimitives.ReadUInt32LittleEndian(info[UnackedOffset..]);
            var capacity = BinaryPrimitives.ReadUInt32LittleEndian(info[SackedOffset..]);
            total = new ListenQueue((total?.Length ?? 0) + length, (total?.Capacity ?? 0) + capacity);
        }

        return total;
    }
}
