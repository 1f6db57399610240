using System.Globalization;

namespace FastCgi.IntegrationTests.Support;

/// <summary>Reads /proc/net/tcp: the established connections an application accepted on its port.</summary>
internal static class TcpConnections
{
    /// <summary>How many IPv4 connections with local port <paramref name="port"/> are ESTABLISHED (the application's ends).</summary>
    public static int EstablishedTo(int port)
    {
        var count = 0;
        foreach (var line in File.ReadLines("/proc/net/tcp").Skip(1))
        {
            // "sl local_address rem_address st ...": addresses are HEXIP:HEXPORT, state 01 is ESTABLISHED.
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var localPort = int.Parse(fields[1].Split(':')[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (localPort == port && fields[3] == "01")
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>Polls until <paramref name="done"/> holds for the count, or the deadline passes; returns the last count.</summary>
    public static async Task<int> WaitAsync(int port, Func<int, bool> done, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            var count = EstablishedTo(port);
            if (done(count) || DateTime.UtcNow > deadline)
            {
                return count;
            }

            await Task.Delay(25);
        }
    }
}
