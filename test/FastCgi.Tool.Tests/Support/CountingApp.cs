using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text;
using FastCgi.Testing;

namespace FastCgi.Tool.Tests.Support;

/// <summary>
/// A FastCGI responder on a loopback TCP port that reports, in every answer, which of its connections carried the
/// request and how many requests that connection carried: <c>connection C request R</c>. It reads each request's
/// STDIN to its end, answers, and closes the connection after a request without FCGI_KEEP_CONN (spec 5.1). With
/// <c>refuseAfter</c> a connection that carried that many requests refuses the next one (FCGI_END_REQUEST with
/// FCGI_OVERLOADED and nothing else, as an application at its request limit does) and closes.
/// </summary>
internal sealed class CountingApp(int refuseAfter = int.MaxValue) : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _connections = [];
    private Task? _accepting;
    private int _accepted;

    /// <summary>Starts listening and accepting.</summary>
    public static CountingApp Start(int refuseAfter = int.MaxValue)
    {
        var app = new CountingApp(refuseAfter);
        app._listener.Start();
        app._accepting = app.AcceptAsync();
        return app;
    }

    /// <summary>HOST:PORT for <c>fcgi</c>.</summary>
    public string Address => $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    /// <summary>Connections accepted so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        if (_accepting is not null)
        {
            await _accepting;
        }
        Task[] connections;
        lock (_connections)
        {
            connections = [.. _connections];
        }

        await Task.WhenAll(connections);
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (true)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            var number = Interlocked.Increment(ref _accepted);
            lock (_connections)
            {
                _connections.Add(ServeAsync(socket, number));
            }
        }
    }

    private async Task ServeAsync(Socket socket, int number)
    {
        using var owned = socket;
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        var input = PipeReader.Create(stream);
        var requests = 0;
        var keep = false;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(_stop.Token);
                var buffer = result.Buffer;
                while (FcgiRecords.TryTake(ref buffer, out var record))
                {
                    if (record.Type == FcgiRecords.BeginRequest)
                    {
                        keep = (record.Content[2] & 1) != 0;
                    }
                    else if (record.Type == FcgiRecords.Stdin && record.Content.Length == 0 && requests == refuseAfter)
                    {
                        const byte Overloaded = 2;
                        await stream.WriteAsync(FcgiRecords.Record(FcgiRecords.EndRequest, record.RequestId, FcgiRecords.EndRequestBody(0, Overloaded)), _stop.Token);
                        return;
                    }
                    else if (record.Type == FcgiRecords.Stdin && record.Content.Length == 0)
                    {
                        requests++;
                        var body = Encoding.ASCII.GetBytes($"Content-Type: text/plain\r\n\r\nconnection {number} request {requests}\n");
                        await stream.WriteAsync((byte[])[
                            .. FcgiRecords.Record(FcgiRecords.Stdout, record.RequestId, body),
                            .. FcgiRecords.Record(FcgiRecords.Stdout, record.RequestId, []),
                            .. FcgiRecords.Record(FcgiRecords.EndRequest, record.RequestId, FcgiRecords.EndRequestBody()),
                        ], _stop.Token);
                        if (!keep)
                        {
                            return;
                        }
                    }
                }

                input.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException)
        {
            // Stopping, or the other end went away: either ends this connection.
        }
        finally
        {
            await input.CompleteAsync();
        }
    }
}
