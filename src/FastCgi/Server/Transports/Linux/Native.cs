using System.Runtime.InteropServices;

namespace FastCgi.Server.Transports.Linux;

/// <summary>The few Linux system calls the epoll transport makes (epoll(7), read(2), send(2), sendmsg(2)).</summary>
internal static unsafe partial class Native
{
    public const int EAGAIN = 11;
    public const int EINTR = 4;
    public const int EBADF = 9;

    public const uint EPOLLIN = 0x001;
    public const uint EPOLLOUT = 0x004;
    public const uint EPOLLERR = 0x008;
    public const uint EPOLLHUP = 0x010;
    public const uint EPOLLRDHUP = 0x2000;
    public const uint EPOLLET = 1u << 31;

    public const int EPOLL_CTL_ADD = 1;
    public const int EPOLL_CTL_DEL = 2;
    private const int EPOLL_CLOEXEC = 0x80000;
    private const int EFD_CLOEXEC = 0x80000;
    private const int EFD_NONBLOCK = 0x800;

    // No SIGPIPE when the web server has closed: the error comes back as EPIPE instead.
    private const int MSG_NOSIGNAL = 0x4000;

    /// <summary>
    /// struct epoll_event is packed on x86-64 (a 4-byte mask, then the 8-byte data at offset 4) and naturally
    /// aligned elsewhere (data at offset 8).
    /// </summary>
    public static readonly int EventSize = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;

    private static readonly int DataOffset = EventSize - 8;

    public static int EpollCreate() => epoll_create1(EPOLL_CLOEXEC);

    public static int EpollAdd(int epoll, int fd, uint events, ulong data)
    {
        var ev = stackalloc byte[16];
        *(uint*)ev = events;
        *(ulong*)(ev + DataOffset) = data;
        return epoll_ctl(epoll, EPOLL_CTL_ADD, fd, ev);
    }

    public static int EpollDelete(int epoll, int fd)
    {
        var ev = stackalloc byte[16];
        return epoll_ctl(epoll, EPOLL_CTL_DEL, fd, ev);
    }

    /// <summary>Waits for events into <paramref name="events"/> (<see cref="EventSize"/> bytes each).</summary>
    public static int EpollWait(int epoll, byte* events, int maxEvents, int timeoutMs) => epoll_wait(epoll, events, maxEvents, timeoutMs);

    public static uint EventMask(byte* events, int index) => *(uint*)(events + (index * EventSize));

    public static ulong EventData(byte* events, int index) => *(ulong*)(events + (index * EventSize) + DataOffset);

    public static nint Read(int fd, byte* buffer, nint count) => read(fd, buffer, count);

    public static nint Send(int fd, byte* buffer, nint count) => send(fd, buffer, count, MSG_NOSIGNAL);

    /// <summary>One sendmsg(2) of <paramref name="count"/> buffers, gathered in order (writev(2) with send(2)'s flags).</summary>
    public static nint SendGathered(int fd, IoVector* vectors, int count)
    {
        var message = new MessageHeader { Vectors = vectors, VectorCount = (nuint)count };
        return sendmsg(fd, &message, MSG_NOSIGNAL);
    }

    public static int LastError => Marshal.GetLastPInvokeError();

    public static void Close(int fd) => close(fd);

    /// <summary>An eventfd(2), non-blocking, to wake the loop threads.</summary>
    public static int EventFd() => eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

    public static nint Write(int fd, byte* buffer, nint count) => write(fd, buffer, count);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int epoll_create1(int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int epoll_ctl(int epfd, int op, int fd, byte* ev);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int epoll_wait(int epfd, byte* events, int maxevents, int timeout);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint read(int fd, byte* buf, nint count);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint send(int fd, byte* buf, nint len, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint sendmsg(int fd, MessageHeader* message, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);

    /// <summary>The calling thread's kernel id, as /proc/self/task names it.</summary>
    public static int ThreadId() => gettid();

    /// <summary>
    /// Whether the kernel thread is asleep (state S or D in /proc: waiting on a lock, a sleep, I/O) rather than
    /// running or waiting for a core; unknown counts as running.
    /// </summary>
    public static bool IsSleeping(int threadId)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/self/task/{threadId}/stat");
            var end = stat.LastIndexOf(')');
            return end > 0 && end + 2 < stat.Length && stat[end + 2] is 'S' or 'D';
        }
        catch (IOException)
        {
            return false;
        }
    }

    [LibraryImport("libc")]
    private static partial int gettid();

    [LibraryImport("libc", SetLastError = true)]
    private static partial int eventfd(uint initval, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint write(int fd, byte* buf, nint count);

    /// <summary>struct iovec: one buffer of a gathered send.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct IoVector
    {
        public byte* Base;
        public nuint Length;
    }

    /// <summary>
    /// struct msghdr without an address or control data. glibc's lengths are size_t; musl's are an int and padding,
    /// which the same small value fills on a little-endian machine.
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct MessageHeader
    {
        public void* Name;
        public uint NameLength;
        public IoVector* Vectors;
        public nuint VectorCount;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }
}
