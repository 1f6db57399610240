using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace FastCgi.IntegrationTests.Support;

/// <summary>Reads /proc/net/unix and /proc/net/tcp: whether a socket still listens on an address.</summary>
internal static class ListeningSockets
{
    /// <summary>Whether a socket listens on <paramref name="endPoint"/> (a Unix socket path or an IPv4 port).</summary>
    public static bool IsListening(EndPoint endPoint)
    {
        if (endPoint is IPEndPoint ip)
        {
            // "sl local_address rem_address st ...": state 0A is LISTEN.
            return File.ReadLines("/proc/net/tcp").Skip(1)
                .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Any(fields => fields[3] == "0A" && int.Parse(fields[1].Split(':')[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture) == ip.Port);
        }

        // "Num RefCount Protocol Flags Type St Inode Path": flag 00010000 marks a listening socket; the connections
        // it accepted carry the same path without it.
        var path = ((UnixDomainSocketEndPoint)endPoint).ToString();
        return File.ReadLines("/proc/net/unix").Skip(1)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Any(fields => fields.Length > 7 && fields[3] == "00010000" && fields[7] == path);
    }

    /// <summary>Polls until a socket listens on <paramref name="endPoint"/>; returns whether that happened in time.</summary>
    public static async Task<bool> WaitUntilListeningAsync(EndPoint endPoint, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!IsListening(endPoint))
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(25);
        }

        return true;
    }

    /// <summary>Polls until nothing listens on <paramref name="endPoint"/>; returns whether that happened in time.</summary>
    public static async Task<bool> WaitUntilClosedAsync(EndPoint endPoint, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (IsListening(endPoint))
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(25);
        }

        return true;
    }
}
