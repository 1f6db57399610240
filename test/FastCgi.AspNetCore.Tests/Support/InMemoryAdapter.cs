using System.IO.Pipelines;
using FastCgi.Connection;
using FastCgi.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FastCgi.AspNetCore.Tests.Support;

/// <summary>
/// An ASP.NET Core application behind the server's adapter, on one real <see cref="FastCgiConnection"/> whose
/// socket is a pair of in-memory pipes: the test plays the web server, and counts the connection's sends.
/// </summary>
internal sealed class InMemoryAdapter : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Pipe _toApp = new(new PipeOptions(useSynchronizationContext: false));
    private readonly Pipe _fromApp = new(new PipeOptions(useSynchronizationContext: false));
    private readonly CountingWriter _sends;
    private readonly Task _running;

    private InMemoryAdapter(WebApplication app, IFastCgiApplication adapter)
    {
        _app = app;
        _sends = new CountingWriter(_fromApp.Writer);
        var connection = new FastCgiConnection(new Duplex(_toApp.Reader, _sends), adapter, new FastCgiConnectionSettings(), 1, () => { });
        _running = Task.Run(connection.RunAsync);
    }

    /// <summary>The web server's end: what the connection sent.</summary>
    public PipeReader Output => _fromApp.Reader;

    /// <summary>How many times the connection flushed its output to the socket: one send each.</summary>
    public int Sends => _sends.Flushes;

    public static async Task<InMemoryAdapter> StartAsync(Action<WebApplication> map)
    {
        var server = new AdapterServer();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IServer>(server);
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        return new InMemoryAdapter(app, server.Adapter!);
    }

    /// <summary>nginx's fastcgi_params for a GET of <paramref name="uri"/> from a browser.</summary>
    public static IEnumerable<KeyValuePair<string, string>> NginxGet(string uri) =>
        CgiVariables.NginxHello().Select(pair => pair.Key is "SCRIPT_NAME" or "REQUEST_URI" or "DOCUMENT_URI" ? new(pair.Key, uri) : pair);

    public async Task SendAsync(byte[] records) => await _toApp.Writer.WriteAsync(records);

    /// <summary>Reads whole records until one of <paramref name="type"/> arrived (within 30 s); returns them all.</summary>
    public async Task<List<FcgiRecord>> ReadUntilAsync(byte type)
    {
        var records = new List<FcgiRecord>();
        while (true)
        {
            var result = await Output.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            var buffer = result.Buffer;
            while (FcgiRecords.TryTake(ref buffer, out var record))
            {
                records.Add(record);
                if (record.Type == type)
                {
                    Output.AdvanceTo(buffer.Start);
                    return records;
                }
            }

            Output.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                throw new InvalidOperationException("The connection closed: " + string.Join("; ", records));
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _toApp.Writer.CompleteAsync();
        await _running.WaitAsync(TimeSpan.FromSeconds(10));
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private sealed record Duplex(PipeReader Input, PipeWriter Output) : IDuplexPipe;

    /// <summary>The connection's end of the socket: counts the sends (each flush would be one).</summary>
    private sealed class CountingWriter(PipeWriter inner) : PipeWriter
    {
        private int _flushes;

        public int Flushes => Volatile.Read(ref _flushes);

        public override void Advance(int bytes) => inner.Advance(bytes);

        public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _flushes);
            return inner.FlushAsync(cancellationToken);
        }
    }

    /// <summary>The server <c>UseFastCgi</c> would start, minus the socket: it only builds the adapter.</summary>
    private sealed class AdapterServer : IServer
    {
        public IFastCgiApplication? Adapter { get; private set; }

        public IFeatureCollection Features { get; } = new FeatureCollection();

        public Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken)
            where TContext : notnull
        {
            Adapter = new HttpApplicationAdapter<TContext>(application, new ServerSettings(30_000_000, UseRemoteUser: true, AuthorizerPath: null, IsCgi: false), FastCgiRoles.Responder, NullLogger.Instance);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public void Dispose()
        {
        }
    }
}
