using System.Net;

namespace FastCgi.Testing;

/// <summary>
/// Apache httpd in the foreground (<c>-DFOREGROUND</c>) with a self-contained config: its own ServerRoot, PidFile,
/// ErrorLog and runtime folder in the temp folder, mpm_event and only the modules needed, plus the snippets from
/// docs/snippets. Apache will not serve as root, so its children run as www-data: the temp folder is world-readable
/// and the sockets it connects to must be writable by others.
/// </summary>
public sealed class ApacheServer : WebServerProcess
{
    private const string Modules = "/usr/lib/apache2/modules/";

    private ApacheServer()
        : base("apache")
    {
    }

    public int Port { get; private set; }

    public Uri BaseUri => new("http://127.0.0.1:" + Text(Port) + "/");

    public override string ErrorLogPath => PathIn("error.log");

    /// <param name="snippets">The docs/snippets files to include.</param>
    /// <param name="more">Example values in the snippets to replace (an application's address).</param>
    /// <param name="extra">Test-only directives appended to the config.</param>
    public static async Task<ApacheServer> StartAsync(string[] snippets, IReadOnlyDictionary<string, string>? more = null, string extra = "")
    {
        var apache = InstalledTools.Require("apache2", "apache2");
        var server = new ApacheServer();
        try
        {
            server.Port = FreeTcpPort();
            Directory.CreateDirectory(server.PathIn("www"));
            var fcgid = Directory.CreateDirectory(server.PathIn("fcgid"));
            Chmod(fcgid.FullName, "777");
            var includes = string.Join("\n", snippets.Select(snippet => $"Include {server.WriteFile(snippet, Snippets.Render(snippet, server, server.Port, more))}"));
            var config = server.WriteFile("httpd.conf", $"""
                ServerRoot "{server.Folder}"
                ServerName localhost
                Listen 127.0.0.1:{Text(server.Port)}
                PidFile "{server.PathIn("httpd.pid")}"
                DefaultRuntimeDir "{server.Folder}"
                Mutex file:{server.Folder} default
                ErrorLog "{server.ErrorLogPath}"
                LogLevel info
                User www-data
                Group www-data
                LoadModule mpm_event_module {Modules}mod_mpm_event.so
                LoadModule authz_core_module {Modules}mod_authz_core.so
                LoadModule authn_core_module {Modules}mod_authn_core.so
                LoadModule mime_module {Modules}mod_mime.so
                LoadModule dir_module {Modules}mod_dir.so
                LoadModule alias_module {Modules}mod_alias.so
                TypesConfig /etc/mime.types
                LogFormat "%r %>s %B" interop
                CustomLog "{server.PathIn("access.log")}" interop
                DocumentRoot "{server.PathIn("www")}"
                <Directory "{server.PathIn("www")}">
                    Require all granted
                </Directory>
                {includes}
                {extra}
                """);
            await RunAsync(apache, "-t", "-f", config);
            server.StartProcess(apache, ["-DFOREGROUND", "-f", config]);
            await server.WaitUntilListeningAsync(new IPEndPoint(IPAddress.Loopback, server.Port));
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }
}
