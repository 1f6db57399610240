using FastCgi.Tests.Support;
using Xunit;
using FastCgi.Server;
using static FastCgi.Testing.CgiVariables;
using static FastCgi.Testing.FcgiRecords;

namespace FastCgi.Tests.Connection;

/// <summary>
/// Malformed and hostile records from a web server: a protocol violation closes that connection only, a web server
/// that hangs up half-way leaves nothing behind, and a handler that never returns holds only its own request.
/// </summary>
public sealed class MalformedInputTests
{
    public static TheoryData<string, byte[]> ConnectionKillers => [.. ProtocolViolations()];

    [Theory]
    [MemberData(nameof(ConnectionKillers))]
    public async Task A_protocol_violation_closes_only_that_connection(string what, byte[] bytes)
    {
        var app = new TestApp();
        await using var bystander = new InMemoryConnection(app.Handlers, new FastCgiServerOptions { ThreadingLevel = ThreadingLevel.Multiplexed });
        await bystander.WebServer.SendAsync(Request(1, Environ("/wait?a"), []));
        await app["a"].Entered.Within("request a to reach its gate");
        await using (var attacker = bystander.ConnectAnother())
        {
            await attacker.WebServer.SendAsync(bytes);
            await attacker.WebServer.ExpectClosedAsync();

            // The web server reads the end of the connection before the host has let go of it.
            await attacker.Run.Within($"the host to close the connection after {what}");
        }

        app["a"].Open();
        Assert.Equal("waited a", (await bystander.WebServer.ReadResponseAsync(1)).BodyText);
        Assert.Equal("Hello, world!\n", (await bystander.WebServer.RequestAsync(2, Environ("/hello"))).BodyText);
    }

    [Theory]
    [InlineData(5)]
    [InlineData(20)]
    public async Task A_web_server_that_hangs_up_inside_a_record_ends_the_connection_quietly(int length)
    {
        await using var connection = new InMemoryConnection(new TestApp().Handlers);
        await connection.WebServer.SendAsync(Request(1, Environ("/hello"))[..length]);
        await connection.WebServer.CloseAsync();
        await connection.WebServer.ExpectClosedAsync();
        await connection.Run.Within("the host to close the connection");
    }

    [Fact]
    public async Task A_handler_that_never_returns_holds_only_its_own_request()
    {
        var app = new TestApp();
        await using var connection = new InMemoryConnection(app.Handlers, new FastCgiServerOptions { ThreadingLevel = ThreadingLevel.Multiplexed });
        await connection.WebServer.SendAsync(Request(1, Environ("/wait?never"), []));
        await app["never"].Entered.Within("request never to reach its gate");
        for (ushort id = 2; id < 12; id++)
        {
            Assert.Equal("Hello, world!\n", (await connection.WebServer.RequestAsync(id, Environ("/hello"))).BodyText);
        }

        await using var other = connection.ConnectAnother();
        Assert.Equal("Hello, world!\n", (await other.WebServer.RequestAsync(1, Environ("/hello"))).BodyText);
    }
}
