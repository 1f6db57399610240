using System.Net;

namespace FastCgi.Server;

/// <summary>
/// FCGI_WEB_SERVER_ADDRS (spec 3.2): when set, a TCP connection from any other address is closed without being
/// served. Unix sockets are not filtered: the file mode guards them.
/// </summary>
internal sealed class WebServerAddressFilter
{
    private readonly HashSet<IPAddress>? _allowed;

    public WebServerAddressFilter(string? addresses)
    {
        if (string.IsNullOrWhiteSpace(addresses))
        {
            return;
        }

        _allowed = [];
        foreach (var item in addresses.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!IPAddress.TryParse(item, out var address))
            {
                throw new ArgumentException($"FCGI_WEB_SERVER_ADDRS: '{item}' is not an IP address.", nameof(addresses));
            }

            _allowed.Add(Normalize(address));
        }
    }

    /// <summary>Whether a connection from <paramref name="remote"/> may be served.</summary>
    public bool Allows(EndPoint? remote) =>
        _allowed is null || remote is not IPEndPoint ip || _allowed.Contains(Normalize(ip.Address));

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
