using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace FastCgi.Tool;

/// <summary>
/// The Linux calls <c>fcgi bench</c>'s event loop makes itself: epoll, and recv/send on non-blocking sockets. Each
/// answer costs one recv and one send, plus a share of one epoll_wait, as perf/loadgen/fcgi-load.c does; the
/// runtime's socket engine adds a recv that finds nothing before each wait and a thread hop or callback per operation.
/// </summary>
internal static unsafe partial class Epoll
{
    public const uint In = 0x001;
    public const uint Out = 0x004;
    public const uint Error = 0x008;
    public const uint HangUp = 0x010;
    public const int Add = 1;
    public const int Modify = 3;
    public const int Again = 11;
    public const int Interrupted = 4;

    private const int CloseOnExec = 0x80000;
    private const int NoSignal = 0x4000;

    /// <summary>The size of <c>struct epoll_event</c>: packed on x86-64 (12 bytes), aligned elsewhere (16).</summary>
    public static readonly int EventSize = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;

    private static readonly int DataOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    /// <summary>A new epoll instance.</summary>
    /// <exception cref="IOException">epoll_create1 failed.</exception>
    public static int Create()
    {
        var fd = EpollCreate1(CloseOnExec);
        return fd >= 0 ? fd : throw new IOException($"epoll_create1 failed: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>Adds or modifies <paramref name="fd"/>'s interest; <paramref name="data"/> comes back with its events.</summary>
    public static void Control(int epoll, int operation, int fd, uint events, int data)
    {
        var ev = stackalloc byte[16];
        *(uint*)ev = events;
        *(int*)(ev + DataOffset) = data;
        if (EpollCtl(epoll, operation, fd, ev) != 0)
        {
            throw new IOException($"epoll_ctl failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>Waits up to <paramref name="timeoutMilliseconds"/> for events; the count, or -1 with errno set.</summary>
    public static int Wait(int epoll, byte* events, int maxEvents, int timeoutMilliseconds) => EpollWait(epoll, events, maxEvents, timeoutMilliseconds);

    /// <summary>The events and data of the <paramref name="index"/>th event <see cref="Wait"/> returned.</summary>
    public static (uint Events, int Data) EventAt(byte* events, int index)
    {
        var ev = events + (index * EventSize);
        return (*(uint*)ev, *(int*)(ev + DataOffset));
    }

    /// <summary>recv: bytes read, 0 at the end of the stream, -1 with errno set.</summary>
    public static nint Receive(int fd, byte* buffer, int count) => Recv(fd, buffer, count, 0);

    /// <summary>send without SIGPIPE: bytes written, or -1 with errno set.</summary>
    public static nint Send(int fd, byte* buffer, int count) => SendTo(fd, buffer, count, NoSignal);

    public static void Close(int fd) => _ = CloseFd(fd);

    /// <summary>How a socket call's errno is named in <c>fcgi bench</c>'s errors, as the runtime's sockets name it.</summary>
    public static string ErrorName(int errno) => errno switch
    {
        104 => nameof(SocketError.ConnectionReset),
        32 => nameof(SocketError.Shutdown),
        110 => nameof(SocketError.TimedOut),
        111 => nameof(SocketError.ConnectionRefused),
        103 => nameof(SocketError.ConnectionAborted),
        113 => nameof(SocketError.HostUnreachable),
        101 => nameof(SocketError.NetworkUnreachable),
        _ => "errno " + errno.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    [LibraryImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    private static partial int EpollCreate1(int flags);

    [LibraryImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    private static partial int EpollCtl(int epoll, int operation, int fd, byte* ev);

    [LibraryImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
    private static partial int EpollWait(int epoll, byte* events, int maxEvents, int timeout);

    // recv and send on a non-blocking socket return at once, so they need not leave the runtime's cooperative mode
    // (the transition is a good share of a call's cost outside the kernel).
    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    [SuppressGCTransition]
    private static partial nint Recv(int fd, byte* buffer, nint count, int flags);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    [SuppressGCTransition]
    private static partial nint SendTo(int fd, byte* buffer, nint count, int flags);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int CloseFd(int fd);
}
