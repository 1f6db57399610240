using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FastCgi.Protocol;

namespace FastCgi.Tool;

internal sealed partial class LoadGenerator
{
    /// <summary>
    /// One thread's share of the connections, driven by one epoll instance as perf/loadgen/fcgi-load.c drives all of
    /// its own: each readiness is one recv, every answer in it is parsed in place, and the requests that follow them
    /// go out in one send. Nothing is allocated per request.
    /// </summary>
    private sealed unsafe class EventLoop(LoadGenerator generator, WorkerStats[] stats)
    {
        // A record is at most 8 + 65535 + 255 bytes, so a buffer of twice that always has room for the next one.
        private const int ReceiveSize = 128 * 1024;

        // Latencies under 65.536 ms are counted per microsecond here and added to the HdrHistogram at the end, which
        // records them exactly as one at a time would: the histogram's code stays out of the loop.
        private const int FastLatencies = 1 << 16;

        private readonly LoadSettings _settings = generator._settings;
        private readonly long[] _latencyCounts = new long[FastLatencies];

        // The loop's methods are compiled fully optimised at once: no tier-0 code, on-stack replacement or
        // re-compilation on a background thread while the load is measured.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run()
        {
            var epoll = Epoll.Create();
            var connections = stats.Select(s => new Connection(s, _settings.InFlight, _settings.ExpectedBody is not null)).ToArray();
            var events = GC.AllocateArray<byte>(Epoll.EventSize * connections.Length, pinned: true);
            try
            {
                var open = 0;
                for (var i = 0; i < connections.Length; i++)
                {
                    open += Open(epoll, connections[i], i) ? 1 : 0;
                }

                fixed (byte* ready = events)
                {
                    while (open > 0)
                    {
                        if (Stopwatch.GetTimestamp() >= Volatile.Read(ref generator._giveUpAt))
                        {
                            foreach (var connection in connections)
                            {
                                Close(connection, "timeout");
                            }

                            return;
                        }

                        // A timeout, so the give-up time is seen even when nothing answers.
                        var count = Epoll.Wait(epoll, ready, connections.Length, 10);
                        if (count < 0)
                        {
                            var errno = Marshal.GetLastPInvokeError();
                            if (errno == Epoll.Interrupted)
                            {
                                continue;
                            }

                            throw new IOException($"epoll_wait failed: errno {errno}");
                        }

                        for (var e = 0; e < count; e++)
                        {
                            var (flags, index) = Epoll.EventAt(ready, e);
                            var connection = connections[index];
                            if (connection.Socket is null)
                            {
                                continue;
                            }

                            var lost = (flags & Epoll.Out) != 0 ? Flush(epoll, connection, index) : null;
                            if (lost is null && (flags & (Epoll.In | Epoll.Error | Epoll.HangUp)) != 0)
                            {
                                lost = Receive(epoll, connection, index);
                            }

                            // A connection with nothing outstanding is done: its requests ran out, or it carried its
                            // one request without FCGI_KEEP_CONN. A lost one is opened again while requests remain.
                            if (lost is not null || connection.Outstanding == 0)
                            {
                                Close(connection, lost ?? "closed");
                                open -= Open(epoll, connection, index) ? 0 : 1;
                            }
                        }

                        // Once sending has stopped, a connection that holds only warm-up requests is not waited for:
                        // they are not counted, and a server that never accepted the connection would hold the run
                        // until the give-up time.
                        if (Stopwatch.GetTimestamp() >= Volatile.Read(ref generator._stopSendingAt))
                        {
                            for (var index = 0; index < connections.Length; index++)
                            {
                                var connection = connections[index];
                                if (connection.Socket is not null && connection.MeasuredOutstanding == 0)
                                {
                                    Close(connection, "closed");
                                    open -= Open(epoll, connection, index) ? 0 : 1;
                                }
                            }
                        }
                    }
                }
            }
            finally
            {
                foreach (var connection in connections)
                {
                    connection.Socket?.Dispose();
                }

                Epoll.Close(epoll);
                for (var microseconds = 1; microseconds < FastLatencies; microseconds++)
                {
                    if (_latencyCounts[microseconds] != 0)
                    {
                        stats[0].Latency.RecordValueWithCount(microseconds, _latencyCounts[microseconds]);
                    }
                }
            }
        }

        /// <summary>Connects and sends the first requests; false when no request may be sent any more.</summary>
        private bool Open(int epoll, Connection connection, int index)
        {
            while (true)
            {
                if (!generator.MaySend(Stopwatch.GetTimestamp(), out var firstMeasured))
                {
                    return false;
                }

                var socket = new Socket(generator._endPoint.AddressFamily, SocketType.Stream, generator._endPoint is System.Net.IPEndPoint ? ProtocolType.Tcp : ProtocolType.Unspecified);
                try
                {
                    if (socket.ProtocolType == ProtocolType.Tcp)
                    {
                        socket.NoDelay = true;
                    }

                    // A blocking connect: over loopback or a Unix socket it completes at once.
                    socket.Connect(generator._endPoint);
                    socket.Blocking = false;
                }
                catch (SocketException e)
                {
                    socket.Dispose();
                    if (firstMeasured)
                    {
                        generator.Failed(connection.Stats, "connect: " + e.SocketErrorCode);
                    }

                    continue;
                }

                connection.Socket = socket;
                connection.Fd = (int)socket.SafeHandle.DangerousGetHandle();
                Epoll.Control(epoll, Epoll.Add, connection.Fd, Epoll.In, index);
                var now = Stopwatch.GetTimestamp();
                for (var id = 1; id <= _settings.InFlight; id++)
                {
                    var measured = firstMeasured;
                    if (id > 1 && !generator.MaySend(now, out measured))
                    {
                        break;
                    }

                    Start(connection, id, now, measured);
                }

                if (Flush(epoll, connection, index) is not { } lost)
                {
                    return true;
                }

                Close(connection, lost);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Start(Connection connection, int id, long now, bool measured)
        {
            connection.Queue(generator._requests[id]);
            connection.SentAt[id] = now;
            connection.Measured[id] = measured;
            connection.Busy[id] = true;
            connection.Bodies?[id].ResetWrittenCount();
            connection.Outstanding++;
            if (measured)
            {
                connection.MeasuredOutstanding++;
            }
        }

        /// <summary>One recv, then every whole record in the buffer; the error kind if the connection is lost.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private string? Receive(int epoll, Connection connection, int index)
        {
            var buffer = connection.Received;
            int read;
            fixed (byte* free = &buffer[connection.End])
            {
                read = (int)Epoll.Receive(connection.Fd, free, buffer.Length - connection.End);
            }

            if (read <= 0)
            {
                var errno = read == 0 ? 0 : Marshal.GetLastPInvokeError();
                return read == 0 ? "closed" : errno == Epoll.Again ? null : "socket: " + Epoll.ErrorName(errno);
            }

            connection.End += read;
            var now = Stopwatch.GetTimestamp();
            var start = connection.Start;
            var stats = connection.Stats;
            while (connection.End - start >= FastCgiConstants.HeaderLength)
            {
                var header = buffer.AsSpan(start, FastCgiConstants.HeaderLength);
                var contentLength = BinaryPrimitives.ReadUInt16BigEndian(header[4..]);
                var total = FastCgiConstants.HeaderLength + contentLength + header[6];
                if (connection.End - start < total)
                {
                    break;
                }

                if (header[0] != FastCgiConstants.Version)
                {
                    return "protocol error";
                }

                var type = (RecordType)header[1];
                var id = BinaryPrimitives.ReadUInt16BigEndian(header[2..]);
                var content = buffer.AsSpan(start + FastCgiConstants.HeaderLength, contentLength);
                start += total;
                if (id == 0 || id > _settings.InFlight || !connection.Busy[id])
                {
                    continue;
                }

                if (type == RecordType.Stdout && connection.Bodies is { } bodies)
                {
                    bodies[id].Write(content);
                    continue;
                }

                if (type != RecordType.EndRequest || contentLength < EndRequestBody.Length)
                {
                    continue;
                }

                connection.Busy[id] = false;
                connection.Outstanding--;
                if (connection.Measured[id])
                {
                    connection.MeasuredOutstanding--;
                    var status = EndRequestBody.ReadFrom(content).ProtocolStatus;
                    var problem = status != ProtocolStatus.RequestComplete ? RecordTrace.StatusName(status)
                        : connection.Bodies is { } checkedBodies && !generator.BodyMatches(checkedBodies[id].WrittenSpan) ? "unexpected body"
                        : null;
                    if (problem is null)
                    {
                        var microseconds = Math.Max(1, (now - connection.SentAt[id]) * 1_000_000 / Stopwatch.Frequency);
                        if (microseconds < FastLatencies)
                        {
                            _latencyCounts[microseconds]++;
                        }
                        else
                        {
                            stats.Latency.RecordValue(microseconds);
                        }

                        stats.Completed++;
                        stats.LastCompletion = now;
                        connection.ServedHere = true;
                        Interlocked.Increment(ref generator._completedLive);
                    }
                    else
                    {
                        generator.Failed(stats, problem);
                    }
                }

                if (_settings.KeepConnection && generator.MaySend(now, out var measuredNext))
                {
                    Start(connection, id, now, measuredNext);
                }
            }

            // What is left is the start of a record: moved to the front, so the buffer has room for the rest.
            var left = connection.End - start;
            if (left > 0 && start > 0)
            {
                Buffer.BlockCopy(buffer, start, buffer, 0, left);
            }

            connection.Start = 0;
            connection.End = left;
            return Flush(epoll, connection, index);
        }

        /// <summary>Sends what is queued; waits for EPOLLOUT when the socket is full. The error kind if the send failed.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static string? Flush(int epoll, Connection connection, int index)
        {
            while (connection.SendEnd > connection.SendStart)
            {
                nint sent;
                fixed (byte* next = &connection.Sending[connection.SendStart])
                {
                    sent = Epoll.Send(connection.Fd, next, connection.SendEnd - connection.SendStart);
                }

                if (sent < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno != Epoll.Again)
                    {
                        return "socket: " + Epoll.ErrorName(errno);
                    }

                    if (!connection.WaitsToSend)
                    {
                        connection.WaitsToSend = true;
                        Epoll.Control(epoll, Epoll.Modify, connection.Fd, Epoll.In | Epoll.Out, index);
                    }

                    return null;
                }

                connection.SendStart += (int)sent;
            }

            connection.SendStart = connection.SendEnd = 0;
            if (connection.WaitsToSend)
            {
                connection.WaitsToSend = false;
                Epoll.Control(epoll, Epoll.Modify, connection.Fd, Epoll.In, index);
            }

            return null;
        }

        /// <summary>Closes the connection; its measured requests still outstanding count as <paramref name="lost"/>.</summary>
        private void Close(Connection connection, string lost)
        {
            if (connection.Socket is null)
            {
                return;
            }

            for (var id = 1; id <= _settings.InFlight; id++)
            {
                if (connection.Busy[id])
                {
                    connection.Busy[id] = false;
                    if (connection.Measured[id])
                    {
                        generator.Failed(connection.Stats, lost);
                    }
                }
            }

            if (connection.ServedHere)
            {
                connection.Stats.ConnectionsServed++;
            }

            connection.Socket.Dispose();
            connection.Socket = null;
            connection.Fd = -1;
            connection.Outstanding = 0;
            connection.MeasuredOutstanding = 0;
            connection.ServedHere = false;
            connection.WaitsToSend = false;
            connection.Start = connection.End = connection.SendStart = connection.SendEnd = 0;
        }

        /// <summary>One connection slot: its socket (or none between two), buffers and requests in flight.</summary>
        private sealed class Connection(WorkerStats stats, int inFlight, bool checkBodies)
        {
            public WorkerStats Stats { get; } = stats;

            public Socket? Socket { get; set; }

            public int Fd { get; set; } = -1;

            public byte[] Received { get; } = new byte[ReceiveSize];

            public int Start { get; set; }

            public int End { get; set; }

            public byte[] Sending { get; private set; } = new byte[16 * 1024];

            public int SendStart { get; set; }

            public int SendEnd { get; set; }

            public bool WaitsToSend { get; set; }

            public long[] SentAt { get; } = new long[inFlight + 1];

            public bool[] Measured { get; } = new bool[inFlight + 1];

            public bool[] Busy { get; } = new bool[inFlight + 1];

            public ArrayBufferWriter<byte>[]? Bodies { get; } = checkBodies ? [.. Enumerable.Range(0, inFlight + 1).Select(_ => new ArrayBufferWriter<byte>())] : null;

            public int Outstanding { get; set; }

            /// <summary>The outstanding requests sent in the measured phase (the others are not counted, however they end).</summary>
            public int MeasuredOutstanding { get; set; }

            public bool ServedHere { get; set; }

            public void Queue(ReadOnlySpan<byte> bytes)
            {
                if (SendEnd + bytes.Length > Sending.Length)
                {
                    var grown = new byte[Math.Max(Sending.Length * 2, SendEnd + bytes.Length)];
                    Buffer.BlockCopy(Sending, 0, grown, 0, SendEnd);
                    Sending = grown;
                }

                bytes.CopyTo(Sending.AsSpan(SendEnd));
                SendEnd += bytes.Length;
            }
        }
    }
}
