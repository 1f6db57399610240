using System.Net;
using FastCgi.Tests.Connection;
using FastCgi.Tests.Support;
using Xunit;
using static FastCgi.Testing.CgiVariables;
using static FastCgi.Testing.FcgiRecords;

namespace FastCgi.Tests.Server;

/// <summary>
/// FCGI_WEB_SERVER_ADDRS (spec 3.2) at the host: a connection from an address not in the list is closed without a
/// byte and never reaches the application; IPv4, IPv6 and IPv4-mapped IPv6 addresses in the list are served, and a
/// connection with no address (a Unix socket) is not filtered.
/// </summary>
public sealed class WebServerAddressTests
{
    private const string Allowed = "10.1.2.3, ::1, ::ffff:192.168.0.7";

    /// <summary>The listed peers, also as IPv4-mapped IPv6 and the other way round; "" is a connection with no address (a Unix socket).</summary>
    public static TheoryData<string> AllowedPeers => ["10.1.2.3", "::1", "::ffff:10.1.2.3", "192.168.0.7", "::ffff:192.168.0.7", ""];

    public static TheoryData<string> RefusedPeers => ["10.1.2.4", "127.0.0.1", "::2", "::ffff:10.1.2.4", "fe80::1"];

    [Theory]
    [MemberData(nameof(AllowedPeers))]
    public async Task A_listed_peer_is_served(string peer)
    {
        await using var server = new InMemoryServer(new TestApp().Handlers, Options());
        await using var connection = server.Connect(EndPointOf(peer));
        await connection.WebServer.SendAsync(Request(1, Environ("/hello"), []));
        await connection.WebServer.ExpectHelloAsync(1);
    }

    [Theory]
    [MemberData(nameof(RefusedPeers))]
    public async Task Another_peer_is_closed_without_a_byte_and_never_reaches_the_application(string peer)
    {
        var log = new CapturingLoggerFactory();
        var handlers = 0;
        await using var server = new InMemoryServer(() => new Counting(() => handlers++), Options() with { LoggerFactory = log });
        await using (var refused = server.Connect(EndPointOf(peer)))
        {
            await refused.WebServer.SendAsync(Request(1, Environ("/hello"), []));
            Assert.Equal(0, await refused.WebServer.ReadToEndAsync(limit: 0));
            await refused.Closed.Within("the host to close the refused connection");
            Assert.Contains($"Warning FastCgi.Server: Connection from {EndPointOf(peer)} refused: not in FCGI_WEB_SERVER_ADDRS", log.Lines);
        }

        // The refusal took no slot and stopped nothing: a listed peer is served next.
        await using var allowed = server.Connect(EndPointOf("10.1.2.3"));
        await allowed.WebServer.SendAsync(Request(1, Environ("/hello"), []));
        Assert.Equal("Status: 200 OK\r\n\r\n", (await allowed.WebServer.ReadResponseAsync(1)).Text);
        Assert.Equal(1, handlers);
    }

    private static FastCgiServerOptions Options() => new() { WebServerAddresses = Allowed };

    private static IPEndPoint? EndPointOf(string address) => address.Length == 0 ? null : new IPEndPoint(IPAddress.Parse(address), 40000);

    /// <summary>Counts the requests that reached the application and answers with a bare 200.</summary>
    private sealed class Counting(Action counted) : Handler
    {
        public override void Process(Request request)
        {
            counted();
            request.SetStatus(200);
            request.DeleteHeader("Content-Type");
        }
    }
}
