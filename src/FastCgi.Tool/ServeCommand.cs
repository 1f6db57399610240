using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;

namespace FastCgi.Tool;

/// <summary><c>fcgi serve</c>: a development HTTP front-end on Kestrel for a FastCGI application.</summary>
internal static class ServeCommand
{
    public const string NotProduction = "A development front-end, not a production web server: no TLS, no request "
        + "buffering, no limits beyond Kestrel's defaults. Deploy behind nginx, "
        + "Apache or lighttpd (docs/deployment.md).";

    public static Command Create()
    {
        var address = new Argument<string?>("ADDRESS") { Description = "The application: HOST:PORT, [::1]:PORT or unix:/PATH (or use --spawn).", Arity = ArgumentArity.ZeroOrOne };
        var spawn = new Option<string?>("--spawn") { Description = "A command line to start the application with a listening socket on fd 0; it is restarted when it exits." };
        var listen = new Option<string>("--listen", "-l") { Description = "Where to serve HTTP: HOST:PORT.", DefaultValueFactory = _ => "127.0.0.1:8080" };
        var staticRoot = new Option<string?>("--static") { Description = "A folder of static files: a request for a file in it is served from it, everything else goes to the application." };
        var authorizer = new Option<string?>("--authorizer") { Description = "A FastCGI authorizer (an address, or a command line to spawn) asked before every request, static files included (spec 6.3)." };
        var root = new Option<string?>("--document-root") { Description = "DOCUMENT_ROOT (SCRIPT_FILENAME is it followed by the path); default the --static folder, else the current folder." };
        var show = new Option<string[]>("--show") { Description = "A line to print once serving, {url} replaced by the base URL (the README's first command lists URLs to try); repeatable." };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Log each request forwarded, how it ended, and aborts." };
        var command = new Command("serve", "Serve HTTP and forward every request to a FastCGI application, as nginx's fastcgi_pass does. " + NotProduction)
        {
            address, spawn, listen, staticRoot, authorizer, root, show, verbose,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            var given = result.GetValue(address);
            var command = result.GetValue(spawn);
            if ((given is null) == (command is null))
            {
                await Console.Error.WriteLineAsync("fcgi: give the application's ADDRESS or --spawn COMMAND (one of them)").ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            var options = new Options(
                given is null ? null : AppAddress.Parse(given),
                command,
                result.GetValue(listen)!,
                result.GetValue(staticRoot),
                result.GetValue(authorizer),
                result.GetValue(root),
                result.GetValue(show) ?? [],
                result.GetValue(verbose));
            return await RunAsync(options, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private sealed record Options(AppAddress? Address, string? Spawn, string Listen, string? Static, string? Authorizer, string? DocumentRoot, string[] Show, bool Verbose);

    private static async Task<int> RunAsync(Options o, CancellationToken cancellationToken)
    {
        if (!IPEndPoint.TryParse(o.Listen, out var listen) || listen.Port == 0)
        {
            await Console.Error.WriteLineAsync($"fcgi: --listen is HOST:PORT with an IP address, not '{o.Listen}'").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        var log = Console.Error;
        SpawnedApp? app = null;
        AppConnector? authorizerConnector = null;
        try
        {
            EndPoint appEndPoint;
            if (o.Spawn is not null)
            {
                app = SpawnedApp.Start(AppAddress.Parse(o.Spawn).Command ?? [o.Spawn], outputToStderr: false, restart: true, log);
                appEndPoint = app.EndPoint;
            }
            else
            {
                appEndPoint = o.Address!.EndPoint ?? throw new ArgumentException("A command line to start goes in --spawn.");
            }

            if (o.Authorizer is not null)
            {
                authorizerConnector = AppConnector.Open(AppAddress.Parse(o.Authorizer), quiet: false, log);
            }

            var documentRoot = Path.GetFullPath(o.DocumentRoot ?? o.Static ?? Directory.GetCurrentDirectory());
            using var appPool = new UpstreamPool(appEndPoint);
            if (app is not null)
            {
                app.Exited += appPool.Clear;
            }

            using var authorizerPool = authorizerConnector is null ? null : new UpstreamPool(authorizerConnector.EndPoint);
            var forwarder = new FastCgiForwarder(appPool, documentRoot, o.Verbose ? log : null);
            var authorize = authorizerPool is null ? null : new FastCgiForwarder(authorizerPool, documentRoot, o.Verbose ? log : null);

            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(kestrel =>
            {
                kestrel.Listen(listen);
                kestrel.Limits.MaxRequestBodySize = null;
                kestrel.AddServerHeader = false;
            });
            await using var web = builder.Build();
            const string GrantedKey = "fcgi.granted";
            if (authorize is not null)
            {
                web.Use(async (context, next) =>
                {
                    var granted = await authorize.AuthorizeAsync(context).ConfigureAwait(false);
                    if (granted is null)
                    {
                        return;
                    }

                    context.Items[GrantedKey] = granted;
                    await next(context).ConfigureAwait(false);
                });
            }

            if (o.Static is not null)
            {
                web.UseStaticFiles(new StaticFileOptions
                {
                    FileProvider = new PhysicalFileProvider(Path.GetFullPath(o.Static)),
                    ServeUnknownFileTypes = true,
                });
            }

            web.Run(context => forwarder.ForwardAsync(context, context.Items[GrantedKey] as List<KeyValuePair<string, string>> ?? []));
            await web.StartAsync(cancellationToken).ConfigureAwait(false);
            var url = $"http://{(listen.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{listen.Address}]" : listen.Address.ToString())}:{listen.Port}/";
            await Console.Out.WriteLineAsync($"fcgi serve: {url} -> {(o.Spawn ?? o.Address!.Text)}{(o.Static is null ? "" : ", static files from " + o.Static)}{(o.Authorizer is null ? "" : ", authorizer " + o.Authorizer)}").ConfigureAwait(false);
            await Console.Out.WriteLineAsync(NotProduction).ConfigureAwait(false);
            foreach (var line in o.Show)
            {
                await Console.Out.WriteLineAsync(line.Replace("{url}", url, StringComparison.Ordinal)).ConfigureAwait(false);
            }

            await Console.Out.FlushAsync(cancellationToken).ConfigureAwait(false);
            await web.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
            return 0;
        }
        catch (Exception e) when (e is IOException or SocketException or InvalidOperationException or ArgumentException or System.ComponentModel.Win32Exception)
        {
            await log.WriteLineAsync($"fcgi: {e.Message}").ConfigureAwait(false);
            return ExitCodes.Unreachable;
        }
        finally
        {
            if (authorizerConnector is not null)
            {
                await authorizerConnector.DisposeAsync().ConfigureAwait(false);
            }

            if (app is not null)
            {
                await app.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
