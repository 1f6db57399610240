using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace FastCgi.Server.Transports;

/// <summary>
/// systemd's socket activation (sd_listen_fds(3)): the service manager passes listening sockets as descriptors 3 and
/// up, <c>LISTEN_FDS</c> their count, <c>LISTEN_PID</c> the process meant to take them (a child that inherits the
/// variables must ignore them), and optionally <c>LISTEN_FDNAMES</c>, their names separated by colons. Linux only.
/// </summary>
internal static partial class SystemdSockets
{
    /// <summary>SD_LISTEN_FDS_START: the first passed descriptor.</summary>
    public const int FirstDescriptor = 3;

    private const string PidVariable = "LISTEN_PID";
    private const string CountVariable = "LISTEN_FDS";
    private const string NamesVariable = "LISTEN_FDNAMES";

    private const int SolSocket = 1;
    private const int SoType = 3;
    private const int SoAcceptConn = 30;
    private const int SockStream = 1;

    // ioctl(FIOCLEX) sets close-on-exec without a variadic argument (fcntl's F_SETFD would need one).
    private const ulong FioClex = 0x5451;

    /// <summary>
    /// What the three variables say to the process <paramref name="processId"/>: how many sockets it was passed (0 when
    /// the variables are absent, meant for another process, or <c>LISTEN_FDS</c> is 0), or why they cannot be read.
    /// </summary>
    public static Activation Parse(string? listenPid, string? listenFds, int processId)
    {
        if (string.IsNullOrEmpty(listenPid))
        {
            return default;
        }

        if (!int.TryParse(listenPid, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid <= 0)
        {
            return new Activation(0, $"{PidVariable} '{listenPid}' is not a process id (sd_listen_fds(3)).");
        }

        if (pid != processId || string.IsNullOrEmpty(listenFds))
        {
            return default;
        }

        // The passed descriptors run from 3 up, so their count cannot reach past the largest descriptor.
        return int.TryParse(listenFds, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count <= int.MaxValue - FirstDescriptor
            ? new Activation(count, null)
            : new Activation(0, $"{CountVariable} '{listenFds}' is not a count of sockets (sd_listen_fds(3)).");
    }

    /// <summary>
    /// The name of each of <paramref name="count"/> sockets from <c>LISTEN_FDNAMES</c>, or null when it is absent or
    /// does not name each socket once (the names only label the sockets in the log).
    /// </summary>
    public static string[]? ParseNames(string? listenFdNames, int count)
    {
        var names = listenFdNames?.Split(':');
        return names is not null && names.Length == count ? names : null;
    }

    /// <summary>
    /// Whether this process was passed sockets, or variables meant for it that cannot be read (then taking them fails,
    /// saying why). Nothing is taken or changed.
    /// </summary>
    public static bool ArePassed() => OperatingSystem.IsLinux() && ReadEnvironment().IsPassed;

    /// <summary>
    /// Takes the sockets passed to this process: each is made close-on-exec and owned by the returned
    /// <see cref="Socket"/>, and the three variables are removed from the environment, so that a child process
    /// (a handler's <see cref="System.Diagnostics.Process"/>) inherits neither. Null when none were passed.
    /// </summary>
    /// <param name="firstDescriptor">Where the sockets start: <see cref="FirstDescriptor"/>, but for tests.</param>
    /// <exception cref="InvalidOperationException">The variables cannot be read, or a passed descriptor is not a listening stream socket.</exception>
    public static IReadOnlyList<(Socket Socket, string Name)>? Take(int firstDescriptor = FirstDescriptor)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        var activation = ReadEnvironment();
        if (activation.Error is not null)
        {
            throw new InvalidOperationException(activation.Error);
        }

        if (activation.Count == 0)
        {
            return null;
        }

        var names = ParseNames(Environment.GetEnvironmentVariable(NamesVariable), activation.Count);
        var descriptors = Enumerable.Range(firstDescriptor, activation.Count).ToArray();
        foreach (var descriptor in descriptors)
        {
            if (Problem(descriptor) is { } problem)
            {
                throw new InvalidOperationException(
                    $"{CountVariable}={activation.Count} passes the descriptors from {firstDescriptor}, but descriptor {descriptor} {problem}.");
            }
        }

        var sockets = new (Socket, string)[descriptors.Length];
        for (var i = 0; i < descriptors.Length; i++)
        {
            // Passed across exec, the descriptor is inheritable; no child of this process should get it.
            _ = IoCtl(descriptors[i], FioClex);
            var socket = new Socket(new SafeSocketHandle(descriptors[i], ownsHandle: true));
            var name = names is null ? $"fd {descriptors[i]}" : $"fd {descriptors[i]} '{names[i]}'";
            sockets[i] = (socket, socket.LocalEndPoint is { } endPoint ? $"{endPoint} ({name})" : name);
        }

        // sd_listen_fds(3) with unset_environment: children of this process must not think the sockets are theirs.
        Environment.SetEnvironmentVariable(PidVariable, null);
        Environment.SetEnvironmentVariable(CountVariable, null);
        Environment.SetEnvironmentVariable(NamesVariable, null);
        return sockets;
    }

    private static Activation ReadEnvironment() =>
        Parse(Environment.GetEnvironmentVariable(PidVariable), Environment.GetEnvironmentVariable(CountVariable), Environment.ProcessId);

    /// <summary>What is wrong with <paramref name="descriptor"/> as a FastCGI listening socket, or null.</summary>
    private static string? Problem(int descriptor)
    {
        var type = 0;
        var length = sizeof(int);
        if (GetSockOpt(descriptor, SolSocket, SoType, ref type, ref length) != 0)
        {
            return "is not a socket";
        }

        if (type != SockStream)
        {
            return "is not a stream socket (a datagram or sequenced-packet socket cannot carry FastCGI)";
        }

        var accepting = 0;
        length = sizeof(int);
        return GetSockOpt(descriptor, SolSocket, SoAcceptConn, ref accepting, ref length) == 0 && accepting != 0 ? null : "is not listening";
    }

    [LibraryImport("libc", EntryPoint = "getsockopt", SetLastError = true)]
    private static partial int GetSockOpt(int socket, int level, int optionName, ref int optionValue, ref int optionLength);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int IoCtl(int descriptor, ulong request);

    /// <summary>How many sockets the variables pass to this process, or why they cannot be read.</summary>
    internal readonly record struct Activation(int Count, string? Error)
    {
        /// <summary>Whether the variables are meant for this process: sockets, or an error to report.</summary>
        public bool IsPassed => Count > 0 || Error is not null;
    }
}
