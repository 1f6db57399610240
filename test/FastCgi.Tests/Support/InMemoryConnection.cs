using System.Buffers;
using System.IO.Pipelines;
using FastCgi.Server;
using FastCgi.Protocol;

namespace FastCgi.Tests.Support;

/// <summary>
/// One web server connection to a <see cref="FastCgiHost"/> over the in-memory transport, with handlers chosen by
/// the test: the connection layer's own tier, below sockets, with the host's admission, timeouts and draining.
/// </summary>
internal sealed class InMemoryConnection : IAsyncDisposable
{
    private readonly InMemoryTransportConnection _transport;
    private readonly FastCgiHost _host;
    private readonly Task _hostRun;

    public InMemoryConnection(Func<Handler> responder, FastCgiServerOptions? options = null, PipeOptions? outputOptions = null)
        : this(new Dictionary<Role, Func<Handler>> { [Role.Responder] = responder }, options, outputOptions)
    {
    }

    public InMemoryConnection(IReadOnlyDictionary<Role, Func<Handler>> handlers, FastCgiServerOptions? options = null, PipeOptions? outputOptions = null)
    {
        options = (options ?? new FastCgiServerOptions()) with { HandleSignals = false };
        var listener = new InMemoryListener();
        _host = new FastCgiHost(new HandlerApplication(handlers, options.RequestType, options.RequestLimits), options);
        _hostRun = _host.RunAsync(listener, CancellationToken.None);
        _transport = listener.Connect(outputOptions);
    }

    /// <summary>Completes when the host closed the connection.</summary>
    public Task Run => _transport.Closed;

    /// <summary>Whether the host reset the connection.</summary>
    public bool WasReset => _transport.WasReset;

    public async Task SendAsync(byte[] bytes)
    {
        await _transport.ToApp.WriteAsync(bytes);
    }

    /// <summary>The web server goes away: the application's input ends.</summary>
    public Task CloseInputAsync() => _transport.ToApp.CompleteAsync().AsTask();

    /// <summary>Reads until END_REQUEST of <paramref name="requestId"/>; returns the STDOUT bytes and END_REQUEST body.</summary>
    public async Task<(byte[] Stdout, byte[] EndRequest)> ReadResponseAsync(ushort requestId)
    {
        var stdout = new MemoryStream();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var reader = _transport.FromApp;
        while (true)
        {
            var result = await reader.ReadAsync(timeout.Token);
            var buffer = result.Buffer;
            while (TryTakeRecord(ref buffer, out var type, out var id, out var content))
            {
                if (id == requestId && type == FcgiTestClient.Stdout)
                {
                    stdout.Write(content);
                }
                else if (id == requestId && type == FcgiTestClient.EndRequest)
                {
                    reader.AdvanceTo(buffer.Start);
                    return (stdout.ToArray(), content);
                }
            }

            if (result.IsCompleted)
            {
                throw new EndOfStreamException("The connection's output ended before END_REQUEST.");
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>Reads the next whole record of the output.</summary>
    public async Task<(byte Type, ushort RequestId, byte[] Content)> ReadRecordAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var reader = _transport.FromApp;
        while (true)
        {
            var result = await reader.ReadAsync(timeout.Token);
            var buffer = result.Buffer;
            if (TryTakeRecord(ref buffer, out var type, out var id, out var content))
            {
                reader.AdvanceTo(buffer.Start);
                return (type, id, content);
            }

            if (result.IsCompleted)
            {
                throw new EndOfStreamException("The connection's output ended.");
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>The whole records of the output available now, without waiting.</summary>
    public List<(byte Type, ushort RequestId, byte[] Content)> TakeAvailableRecords()
    {
        var records = new List<(byte, ushort, byte[])>();
        var reader = _transport.FromApp;
        if (!reader.TryRead(out var result))
        {
            return records;
        }

        var buffer = result.Buffer;
        while (TryTakeRecord(ref buffer, out var type, out var id, out var content))
        {
            records.Add((type, id, content));
        }

        reader.AdvanceTo(buffer.Start, buffer.End);
        return records;
    }

    /// <summary>Reads whatever output is available now, without waiting; returns its length.</summary>
    public long DrainAvailable()
    {
        long total = 0;
        var reader = _transport.FromApp;
        while (reader.TryRead(out var result))
        {
            total += result.Buffer.Length;
            reader.AdvanceTo(result.Buffer.End);
            if (result.Buffer.IsEmpty || result.IsCompleted)
            {
                break;
            }
        }

        return total;
    }

    public async ValueTask DisposeAsync()
    {
        await _transport.ToApp.CompleteAsync();
        await Run.WaitAsync(TimeSpan.FromSeconds(10));
        await _host.DisposeAsync();
        await _hostRun.WaitAsync(TimeSpan.FromSeconds(10));
        await _transport.FromApp.CompleteAsync();
    }

    private static bool TryTakeRecord(ref ReadOnlySequence<byte> buffer, out byte type, out ushort id, out byte[] content)
    {
        type = 0;
        id = 0;
        content = [];
        if (buffer.Length < 8)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[8];
        buffer.Slice(0, 8).CopyTo(header);
        var length = (header[4] << 8) | header[5];
        var total = 8 + length + header[6];
        if (buffer.Length < total)
        {
            return false;
        }

        type = header[1];
        id = (ushort)((header[2] << 8) | header[3]);
        content = buffer.Slice(8, length).ToArray();
        buffer = buffer.Slice(total);
        return true;
    }
}
