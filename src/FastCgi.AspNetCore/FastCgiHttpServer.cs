using System.Globalization;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FastCgi.AspNetCore;

/// <summary>
/// The ASP.NET Core server over FastCGI (a <see cref="FastCgiHost"/> running the application through the
/// low-level request interface), or, when the process was started as a CGI program, over the one CGI request.
/// </summary>
internal sealed partial class FastCgiHttpServer : IServer
{
    private readonly FastCgiOptions _options;
    private readonly FastCgiStartMode _mode;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly CancellationTokenSource _stopping = new();
    private FastCgiHost? _host;
    private Task _running = Task.CompletedTask;

    public FastCgiHttpServer(IOptions<FastCgiOptions> options, FastCgiWebHostBuilderExtensions.StartMode mode, ILoggerFactory loggers, IHostApplicationLifetime lifetime)
    {
        // Reading Value runs the validation: an invalid option stops the host here with every problem listed.
        _options = options.Value;
        _mode = mode.Mode;
        _loggers = loggers;
        _logger = loggers.CreateLogger("FastCgi.AspNetCore");
        _lifetime = lifetime;
        var addresses = new ServerAddressesFeature();
        addresses.Addresses.Add(_mode == FastCgiStartMode.Cgi ? "cgi:" : "fastcgi:" + (_options.Listen ?? InheritedSockets()));
        Features.Set<IServerAddressesFeature>(addresses);
    }

    public IFeatureCollection Features { get; } = new FeatureCollection();

    public Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken)
        where TContext : notnull
    {
        var cgi = _mode == FastCgiStartMode.Cgi;
        var settings = new ServerSettings(_options.MaxRequestBodySize, _options.UseRemoteUser, _options.AuthorizerPath, cgi);
        if (cgi)
        {
            // A CGI program is always a Responder (RFC 3875).
            _running = RunCgiAsync(new HttpApplicationAdapter<TContext>(application, settings, FastCgiRoles.Responder, _logger));
            return Task.CompletedTask;
        }

        var adapter = new HttpApplicationAdapter<TContext>(application, settings, _options.Roles, _logger);
        _host = new FastCgiHost(adapter, _options.ToHostOptions(_loggers));

        // Binding happens before RunAsync's first await, so an unusable address fails the start.
        _running = WatchAsync(_host.RunAsync(_stopping.Token));
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _host?.Stop();
        await _running.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _stopping.Dispose();
    }

    private async Task WatchAsync(Task serving)
    {
        try
        {
            await serving.ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            LogServerFailed(_logger, exception);
            Environment.ExitCode = 1;
        }

        // max_requests reached, or the host failed: the application has nothing more to serve.
        _lifetime.StopApplication();
    }

    private async Task RunCgiAsync(IFastCgiApplication application)
    {
        // Let StartAsync return first: the host finishes starting before the request runs.
        await Task.Yield();
        try
        {
            Environment.ExitCode = await CgiHost.RunAsync(application, _options.ToHostOptions(_loggers), _stopping.Token).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            LogServerFailed(_logger, exception);
            Environment.ExitCode = 1;
        }

        _lifetime.StopApplication();
    }

    /// <summary>
    /// Which inherited sockets the host will serve: systemd's when its variables name this process (sd_listen_fds(3);
    /// the host removes them once it has taken the sockets), else fd 0.
    /// </summary>
    private static string InheritedSockets() =>
        Environment.GetEnvironmentVariable("LISTEN_PID") == Environment.ProcessId.ToString(CultureInfo.InvariantCulture)
        && Environment.GetEnvironmentVariable("LISTEN_FDS") is not (null or "" or "0")
            ? "systemd"
            : "fd0";

    [LoggerMessage(1, LogLevel.Critical, "The FastCGI server failed.")]
    private static partial void LogServerFailed(ILogger logger, Exception exception);

    private sealed class ServerAddressesFeature : IServerAddressesFeature
    {
        public ICollection<string> Addresses { get; } = [];

        public bool PreferHostingUrls { get; set; }
    }
}
