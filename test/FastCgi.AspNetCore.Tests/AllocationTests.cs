using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;
using FastCgi.AspNetCore.Tests.Support;
using FastCgi.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit;

namespace FastCgi.AspNetCore.Tests;

/// <summary>No other test runs beside the allocation test: it counts every byte the process allocates.</summary>
[CollectionDefinition(nameof(RunsAlone), DisableParallelization = true)]
public sealed class RunsAlone;

/// <summary>
/// Steady-state managed allocation of the sample's <c>GET /</c> through the adapter, over a FastCGI connection in
/// memory (nginx's PARAMS, one request at a time on a kept connection), beside Kestrel serving the same endpoint
/// in the same process over a loopback socket. The web server ends reuse one encoded request and read the
/// responses in place, so the bytes counted are the servers'. Before the features and the HttpContext were kept
/// per connection the adapter allocated 6,112 B per request and sent twice; now about 656 B, one send, beside
/// Kestrel's 648 to 681 B: the bound is 768 B.
/// </summary>
[Collection(nameof(RunsAlone))]
public sealed class AllocationTests
{
    private const int Warmup = 3000;
    private const int Count = 20_000;

    [Fact]
    public async Task Get_root_through_the_adapter_allocates_no_more_than_Kestrel_and_sends_once()
    {
        var (fastCgi, sends) = await FastCgiBytesPerRequestAsync();
        var kestrel = await KestrelBytesPerRequestAsync();
        TestContext.Current.SendDiagnosticMessage($"GET / allocates {fastCgi} B per request over FastCGI, {kestrel} B on Kestrel");
        Assert.True(fastCgi <= 768, $"{fastCgi} bytes allocated per GET / over FastCGI (Kestrel: {kestrel})");

        // Results.Text flushes its body; the whole response still leaves with END_REQUEST in one send.
        Assert.Equal(1.0, sends);
    }

    private static void MapSample(WebApplication app) =>
        app.MapGet("/", () => Results.Text("Hello from ASP.NET Core\n", "text/plain"));

    private static async Task<(long Bytes, double Sends)> FastCgiBytesPerRequestAsync()
    {
        await using var adapter = await InMemoryAdapter.StartAsync(MapSample);
        var request = FcgiRecords.Request(1, InMemoryAdapter.NginxGet("/"), []);
        await adapter.SendAsync(request);
        var first = await adapter.ReadUntilAsync(FcgiRecords.EndRequest);
        Assert.EndsWith("\r\n\r\nHello from ASP.NET Core\n", Encoding.ASCII.GetString([.. first.Where(record => record.Type == FcgiRecords.Stdout).SelectMany(record => record.Content)]), StringComparison.Ordinal);

        await ExchangeFastCgiAsync(adapter, request, Warmup);
        var sends = adapter.Sends;
        var before = GC.GetTotalAllocatedBytes(precise: true);
        await ExchangeFastCgiAsync(adapter, request, Count);
        var perRequest = (GC.GetTotalAllocatedBytes(precise: true) - before) / Count;
        return (perRequest, (adapter.Sends - sends) / (double)Count);
    }

    private static async Task<long> KestrelBytesPerRequestAsync()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        await using var app = builder.Build();
        MapSample(app);
        await app.StartAsync(TestContext.Current.CancellationToken);
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());

        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, address.Port), TestContext.Current.CancellationToken);
        // What nginx's proxy_pass sends with proxy_http_version 1.1, Host $host and Connection "".
        var request = Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: wrk\r\n\r\n");
        var buffer = new byte[4096];
        var length = await FirstKestrelResponseAsync(socket, request, buffer);
        for (var i = 0; i < Warmup; i++)
        {
            await ExchangeKestrelAsync(socket, request, buffer, length);
        }

        var before = GC.GetTotalAllocatedBytes(precise: true);
        for (var i = 0; i < Count; i++)
        {
            await ExchangeKestrelAsync(socket, request, buffer, length);
        }

        var perRequest = (GC.GetTotalAllocatedBytes(precise: true) - before) / Count;
        await app.StopAsync(TestContext.Current.CancellationToken);
        return perRequest;
    }

    /// <summary>The first response, read up to its Content-Length: its size, which every later one shares (the Date header is fixed-width).</summary>
    private static async Task<int> FirstKestrelResponseAsync(Socket socket, byte[] request, byte[] buffer)
    {
        await socket.SendAsync(request);
        var received = 0;
        while (true)
        {
            received += await socket.ReceiveAsync(buffer.AsMemory(received));
            var text = Encoding.ASCII.GetString(buffer, 0, received);
            if (text.Contains("\r\n\r\n", StringComparison.Ordinal) && text.EndsWith("Hello from ASP.NET Core\n", StringComparison.Ordinal))
            {
                Assert.StartsWith("HTTP/1.1 200 OK\r\n", text, StringComparison.Ordinal);
                return received;
            }
        }
    }

    private static async Task ExchangeKestrelAsync(Socket socket, byte[] request, byte[] buffer, int length)
    {
        await socket.SendAsync(request);
        var received = 0;
        while (received < length)
        {
            received += await socket.ReceiveAsync(buffer.AsMemory(received, length - received));
        }
    }

    private static async Task ExchangeFastCgiAsync(InMemoryAdapter adapter, byte[] request, int count)
    {
        for (var i = 0; i < count; i++)
        {
            await adapter.SendAsync(request);
            while (true)
            {
                var result = await adapter.Output.ReadAsync();
                var ended = EndsWithEndRequest(result.Buffer);
                adapter.Output.AdvanceTo(ended ? result.Buffer.End : result.Buffer.Start, result.Buffer.End);
                if (ended)
                {
                    break;
                }
            }
        }
    }

    /// <summary>Whether the output so far is whole records, the last of them END_REQUEST (read without allocating).</summary>
    private static bool EndsWithEndRequest(ReadOnlySequence<byte> buffer)
    {
        byte lastType = 0;
        while (FcgiRecords.TryReadHeader(buffer, out var type, out _, out _, out var total))
        {
            lastType = type;
            buffer = buffer.Slice(total);
        }

        return buffer.IsEmpty && lastType == FcgiRecords.EndRequest;
    }
}
