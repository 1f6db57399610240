using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace FastCgi.AspNetCore;

/// <summary><c>UseFastCgi()</c>: serve the application over FastCGI or CGI when a web server started it.</summary>
public static class FastCgiWebHostBuilderExtensions
{
    /// <summary>
    /// Serves the application over FastCGI when the process was started as a FastCGI application (systemd passed it
    /// sockets, <c>LISTEN_FDS</c>; or fd 0 is a listening socket, as spawn-fcgi, lighttpd and mod_fcgid start it:
    /// <see cref="FastCgiHost.IsStartedAsFastCgi"/>) or a listen address is configured
    /// (<c>FastCgi:Listen</c>); as one CGI request when <c>GATEWAY_INTERFACE</c> is set and fd 0 is not a socket;
    /// otherwise leaves the server as it is (Kestrel), like <c>UseIISIntegration</c>. Works on
    /// <c>WebApplicationBuilder.WebHost</c> and in the generic host's <c>ConfigureWebHost</c>/<c>ConfigureWebHostDefaults</c>.
    /// </summary>
    /// <param name="builder">The web host builder.</param>
    /// <param name="configure">Sets options in code, after the <c>FastCgi</c> configuration section is read.</param>
    public static IWebHostBuilder UseFastCgi(this IWebHostBuilder builder, Action<FastCgiOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.ConfigureServices((context, services) =>
        {
            var section = context.Configuration.GetSection(FastCgiOptions.SectionName);
            var options = services.AddOptions<FastCgiOptions>().Bind(section);
            if (configure is not null)
            {
                options.Configure(configure);
            }

            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FastCgiOptions>, FastCgiOptionsValidator>());
            options.ValidateOnStart();

            // The mode is decided now, before the server is chosen: the same options as the server will see.
            var probe = new FastCgiOptions();
            section.Bind(probe);
            configure?.Invoke(probe);
            var mode = FastCgiStartModeDetector.Detect(probe.Listen);
            if (mode == FastCgiStartMode.Kestrel)
            {
                return;
            }

            services.RemoveAll<IServer>();
            services.AddSingleton(new StartMode(mode));
            services.AddSingleton<IServer, FastCgiHttpServer>();
            if (mode == FastCgiStartMode.Cgi)
            {
                // Standard output is the response of a CGI program: the console logger must keep off it.
                services.Configure<ConsoleLoggerOptions>(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
            }
        });
    }

    /// <summary>The mode as a service, for the server.</summary>
    internal sealed record StartMode(FastCgiStartMode Mode);

    private sealed class FastCgiOptionsValidator : IValidateOptions<FastCgiOptions>
    {
        public ValidateOptionsResult Validate(string? name, FastCgiOptions options) =>
            options.Validate() is { Count: > 0 } errors ? ValidateOptionsResult.Fail(errors) : ValidateOptionsResult.Success;
    }
}
