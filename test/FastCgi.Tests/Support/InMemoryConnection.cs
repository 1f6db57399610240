using System.Buffers;
using System.IO.Pipelines;
using FastCgi.Connection;

namespace FastCgi.Tests.Support;

/// <summary>
/// One <see cref="FastCgiConnection"/> over two in-memory pipes, with handlers chosen by the test: the
/// connection layer's own tier, below sockets.
/// </summary>
internal sealed class InMemoryConnection : IAsyncDisposable
{
    private readonly Pipe _toApp;
    private readonly Pipe _fromApp;

    public InMemoryConnection(Func<Handler> responder, FastCgiServerOptions? options = null, PipeOptions? outputOptions = null)
    {
        _toApp = new Pipe();
        _fromApp = new Pipe(outputOptions ?? PipeOptions.Default);
        var context = new ServerContext(new Dictionary<Role, Func<Handler>> { [Role.Responder] = responder }, options ?? new FastCgiServerOptions(), () => { });
        Connection = new FastCgiConnection(_toApp.Reader, _fromApp.Writer, context, 1, () => _toApp.Writer.Complete(new IOException("aborted")));
        Run = Task.Run(async () =>
        {
            // As a served socket does: the output ends with the connection, so a reader sees a close as one.
            await Connection.RunAsync();
            await _fromApp.Writer.CompleteAsync();
        });
    }

    public FastCgiConnection Connection { get; }

    public Task Run { get; }

    public async Task SendAsync(byte[] bytes)
    {
        await _toApp.Writer.WriteAsync(bytes);
    }

    /// <summary>The web server goes away: the application's input ends.</summary>
    public Task CloseInputAsync() => _toApp.Writer.CompleteAsync().AsTask();

    /// <summary>Reads until END_REQUEST of <paramref name="requestId"/>; returns the STDOUT bytes and END_REQUEST body.</summary>
    public async Task<(byte[] Stdout, byte[] EndRequest)> ReadResponseAsync(ushort requestId)
    {
        var stdout = new MemoryStream();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            var result = await _fromApp.Reader.ReadAsync(timeout.Token);
            var buffer = result.Buffer;
            while (TryTakeRecord(ref buffer, out var type, out var id, out var content))
            {
                if (id == requestId && type == FcgiTestClient.Stdout)
                {
                    stdout.Write(content);
                }
                else if (id == requestId && type == FcgiTestClient.EndRequest)
                {
                    _fromApp.Reader.AdvanceTo(buffer.Start);
                    return (stdout.ToArray(), content);
                }
            }

            if (result.IsCompleted)
            {
                throw new EndOfStreamException("The connection's output ended before END_REQUEST.");
            }

            _fromApp.Reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>Reads the next whole record of the output.</summary>
    public async Task<(byte Type, ushort RequestId, byte[] Content)> ReadRecordAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            var result = await _fromApp.Reader.ReadAsync(timeout.Token);
            var buffer = result.Buffer;
            if (TryTakeRecord(ref buffer, out var type, out var id, out var content))
            {
                _fromApp.Reader.AdvanceTo(buffer.Start);
                return (type, id, content);
            }

            if (result.IsCompleted)
            {
                throw new EndOfStreamException("The connection's output ended.");
            }

            _fromApp.Reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>The whole records of the output available now, without waiting.</summary>
    public List<(byte Type, ushort RequestId, byte[] Content)> TakeAvailableRecords()
    {
        var records = new List<(byte, ushort, byte[])>();
        if (!_fromApp.Reader.TryRead(out var result))
        {
            return records;
        }

        var buffer = result.Buffer;
        while (TryTakeRecord(ref buffer, out var type, out var id, out var content))
        {
            records.Add((type, id, content));
        }

        _fromApp.Reader.AdvanceTo(buffer.Start, buffer.End);
        return records;
    }

    /// <summary>Reads whatever output is available now, without waiting; returns its length.</summary>
    public long DrainAvailable()
    {
        long total = 0;
        while (_fromApp.Reader.TryRead(out var result))
        {
            total += result.Buffer.Length;
            _fromApp.Reader.AdvanceTo(result.Buffer.End);
            if (result.Buffer.IsEmpty)
            {
                break;
            }
        }

        return total;
    }

    public async ValueTask DisposeAsync()
    {
        await _toApp.Writer.CompleteAsync();
        await Run.WaitAsync(TimeSpan.FromSeconds(10));
        await _fromApp.Reader.CompleteAsync();
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
