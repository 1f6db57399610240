using FastCgi.Server.Transports;
using Xunit;

namespace FastCgi.Tests.Server;

/// <summary>
/// How the host reads systemd's socket activation variables (sd_listen_fds(3)); the sockets themselves are the
/// integration tier's (<c>SocketActivationTests</c>, under <c>systemd-socket-activate</c>).
/// </summary>
public sealed class SystemdSocketsTests
{
    private const int Self = 4242;

    public static TheoryData<string?, string?, int, string?> Variables => new()
    {
        // LISTEN_PID, LISTEN_FDS → sockets passed, error
        { null, null, 0, null },
        { null, "2", 0, null },
        { "", "2", 0, null },
        { "4242", null, 0, null },
        { "4242", "", 0, null },
        { "4242", "0", 0, null },
        { "4242", "1", 1, null },
        { "4242", "3", 3, null },
        { "4241", "1", 0, null },
        { "1", "2", 0, null },
        { "4242", "two", 0, "LISTEN_FDS 'two' is not a count of sockets (sd_listen_fds(3))." },
        { "4242", "-1", 0, "LISTEN_FDS '-1' is not a count of sockets (sd_listen_fds(3))." },
        { "4242", " 1", 0, "LISTEN_FDS ' 1' is not a count of sockets (sd_listen_fds(3))." },
        { "4242", "2147483645", 0, "LISTEN_FDS '2147483645' is not a count of sockets (sd_listen_fds(3))." },
        { "4242", "99999999999", 0, "LISTEN_FDS '99999999999' is not a count of sockets (sd_listen_fds(3))." },
        { "4241", "two", 0, null },
        { "self", "1", 0, "LISTEN_PID 'self' is not a process id (sd_listen_fds(3))." },
        { "0", "1", 0, "LISTEN_PID '0' is not a process id (sd_listen_fds(3))." },
        { "-4242", "1", 0, "LISTEN_PID '-4242' is not a process id (sd_listen_fds(3))." },
    };

    [Theory]
    [MemberData(nameof(Variables))]
    public void Reads_the_variables_as_sd_listen_fds_does(string? listenPid, string? listenFds, int count, string? error)
    {
        var activation = SystemdSockets.Parse(listenPid, listenFds, Self);

        Assert.Equal(new SystemdSockets.Activation(count, error), activation);
        Assert.Equal(count > 0 || error is not null, activation.IsPassed);
    }

    [Theory]
    [InlineData(null, 1, null)]
    [InlineData("web", 1, new[] { "web" })]
    [InlineData("tcp:unix", 2, new[] { "tcp", "unix" })]
    [InlineData("tcp::unix", 3, new[] { "tcp", "", "unix" })]
    [InlineData("tcp:unix", 1, null)]
    [InlineData("tcp", 2, null)]
    public void Names_label_the_sockets_only_when_each_has_one(string? listenFdNames, int count, string[]? names) =>
        Assert.Equal(names, SystemdSockets.ParseNames(listenFdNames, count));
}
