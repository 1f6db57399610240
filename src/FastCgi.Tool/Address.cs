using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace FastCgi.Tool;

/// <summary>
/// Where a FastCGI application is: <c>host:port</c>, <c>[::1]:port</c>, <c>unix:/path</c>, or a command line whose
/// program the tool starts itself with a listening socket on file descriptor 0 (as spawn-fcgi does).
/// </summary>
internal sealed partial class AppAddress
{
    private AppAddress(string text, EndPoint? endPoint, string[]? command)
    {
        Text = text;
        EndPoint = endPoint;
        Command = command;
    }

    /// <summary>The address as given.</summary>
    public string Text { get; }

    /// <summary>The socket to connect to; <see langword="null"/> for a command to spawn.</summary>
    public EndPoint? EndPoint { get; }

    /// <summary>The program and its arguments, split on white space; <see langword="null"/> for a socket address.</summary>
    public string[]? Command { get; }

    /// <summary>Reads an address; anything that is neither <c>unix:</c> nor <c>HOST:PORT</c> is a command line.</summary>
    public static AppAddress Parse(string text)
    {
        if (text.StartsWith("unix:", StringComparison.Ordinal))
        {
            return new AppAddress(text, new UnixDomainSocketEndPoint(text["unix:".Length..]), null);
        }

        if (IPEndPoint.TryParse(text, out var ip) && ip.Port != 0)
        {
            return new AppAddress(text, ip, null);
        }

        var match = HostPort().Match(text);
        if (match.Success)
        {
            var addresses = Dns.GetHostAddresses(match.Groups[1].Value);
            if (addresses.Length == 0)
            {
                throw new ArgumentException($"'{match.Groups[1].Value}' has no address.");
            }

            return new AppAddress(text, new IPEndPoint(addresses[0], int.Parse(match.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture)), null);
        }

        var command = text.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (command.Length == 0)
        {
            throw new ArgumentException("The address is empty.");
        }

        return new AppAddress(text, null, command);
    }

    /// <summary>Opens a connection to <paramref name="endPoint"/>, with Nagle off over TCP (records are written whole).</summary>
    public static async Task<Socket> ConnectAsync(EndPoint endPoint, CancellationToken cancellationToken)
    {
        var tcp = endPoint is IPEndPoint;
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, tcp ? ProtocolType.Tcp : ProtocolType.Unspecified);
        try
        {
            if (tcp)
            {
                socket.NoDelay = true;
            }

            await socket.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    [GeneratedRegex(@"^([A-Za-z0-9.-]+):([0-9]{1,5})$")]
    private static partial Regex HostPort();
}
