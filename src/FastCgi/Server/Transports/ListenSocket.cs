using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace FastCgi.Server.Transports;

/// <summary>Finds or makes the listening socket: the one inherited as fd 0, or one bound to an address.</summary>
internal static partial class ListenSocket
{
    /// <summary>FCGI_LISTENSOCK_FILENO (spec 2.2).</summary>
    private const int ListenSocketFileDescriptor = 0;

    private const int SolSocket = 1;
    private const int SoAcceptConn = 30;

    /// <summary>
    /// The listening socket inherited as file descriptor 0, or <c>null</c> when fd 0 is not a listening socket
    /// (a pipe, a file, a terminal: the program was started as plain CGI).
    /// </summary>
    public static Socket? FromInheritedDescriptor()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS() && !OperatingSystem.IsFreeBSD())
        {
            return null;
        }

        // getsockopt fails with ENOTSOCK on anything but a socket; SO_ACCEPTCONN says whether it listens.
        var accepting = 0;
        var length = sizeof(int);
        if (GetSockOpt(ListenSocketFileDescriptor, SolSocket, SoAcceptConn, ref accepting, ref length) != 0 || accepting == 0)
        {
            return null;
        }

        // Owned: closing it when the server stops makes new connections fail at once instead of waiting in the
        // backlog; sibling processes that share the socket keep their own descriptors.
        return new Socket(new SafeSocketHandle(ListenSocketFileDescriptor, ownsHandle: true));
    }

    /// <summary>
    /// Binds and listens on <paramref name="address"/>: <c>HOST:PORT</c>, <c>[IPV6]:PORT</c>, <c>*:PORT</c>
    /// (every interface), or <c>unix:PATH</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The address cannot be parsed.</exception>
    public static Socket Bind(string address, UnixFileMode unixSocketMode)
    {
        ArgumentException.ThrowIfNullOrEmpty(address);
        Socket socket;
        if (address.StartsWith("unix:", StringComparison.Ordinal))
        {
            var path = address["unix:".Length..];
            if (File.Exists(path))
            {
                File.Delete(path);
            }

            socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.Bind(new UnixDomainSocketEndPoint(path));
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, unixSocketMode);
            }
        }
        else
        {
            var endPoint = ParseIPEndPoint(address);
            socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            if (endPoint.AddressFamily == AddressFamily.InterNetworkV6 && endPoint.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(endPoint);
        }

        socket.Listen(512);
        return socket;
    }

    /// <summary>Parses <c>HOST:PORT</c>, <c>[IPV6]:PORT</c> or <c>*:PORT</c>.</summary>
    public static IPEndPoint ParseIPEndPoint(string address)
    {
        var colon = address.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(address.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
        {
            throw new ArgumentException($"'{address}' is not HOST:PORT, [IPV6]:PORT or unix:PATH.", nameof(address));
        }

        var host = address[..colon];
        if (host == "*")
        {
            return new IPEndPoint(IPAddress.IPv6Any, port);
        }

        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }

        if (!IPAddress.TryParse(host, out var ip))
        {
            var resolved = Dns.GetHostAddresses(host);
            ip = resolved.Length > 0 ? resolved[0] : throw new ArgumentException($"'{host}' does not resolve.", nameof(address));
        }

        return new IPEndPoint(ip, port);
    }

    /// <summary>
    /// Closes the inherited listening socket for good. The .NET runtime duplicates descriptors 0 to 2 at start-up,
    /// so closing fd 0 alone would leave the socket listening in this process and new connections would queue
    /// unanswered during a drain; every descriptor of the same socket is closed (Linux: found in /proc/self/fd).
    /// </summary>
    public static void CloseInherited(Socket listener)
    {
        var target = OperatingSystem.IsLinux() ? ReadLink($"/proc/self/fd/{ListenSocketFileDescriptor}") : null;
        listener.Dispose();
        if (target is null)
        {
            return;
        }

        foreach (var entry in Directory.EnumerateFiles("/proc/self/fd"))
        {
            if (int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out var descriptor)
                && descriptor > 2
                && ReadLink(entry) == target)
            {
                _ = Close(descriptor);
            }
        }
    }

    private static string? ReadLink(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (IOException)
        {
            return null;
        }
    }

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int descriptor);

    [LibraryImport("libc", EntryPoint = "getsockopt", SetLastError = true)]
    private static partial int GetSockOpt(int socket, int level, int optionName, ref int optionValue, ref int optionLength);
}
