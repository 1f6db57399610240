using System.Net;

namespace FastCgi.Testing;

/// <summary>
/// lighttpd in the foreground (<c>-D</c>): a test-only main config (port, document root, logs in the temp folder)
/// including one snippet from docs/snippets. lighttpd spawns the applications itself (bin-path) and stops them when
/// it stops.
/// </summary>
public sealed class LighttpdServer : WebServerProcess
{
    private LighttpdServer()
        : base("lighttpd")
    {
    }

    public int Port { get; private set; }

    public Uri BaseUri => new("http://127.0.0.1:" + Text(Port) + "/");

    public override string ErrorLogPath => PathIn("error.log");

    /// <param name="snippet">The docs/snippets file to include.</param>
    /// <param name="extra">Test-only directives appended to the config; <c>/run/echo</c> and <c>/srv/www</c> in them are replaced as in the snippet.</param>
    /// <param name="more">Example values in the snippet to replace (an application's address).</param>
    public static async Task<LighttpdServer> StartAsync(string snippet, string extra = "", IReadOnlyDictionary<string, string>? more = null)
    {
        var lighttpd = InstalledTools.Require("lighttpd", "lighttpd");
        var server = new LighttpdServer();
        try
        {
            server.Port = FreeTcpPort();
            Directory.CreateDirectory(server.PathIn("www"));
            server.WriteFile("site.conf", Snippets.Render(snippet, server, server.Port, more));
            var config = server.WriteFile("lighttpd.conf", $"""
                server.document-root = "{server.PathIn("www")}"
                server.bind = "127.0.0.1"
                server.port = {Text(server.Port)}
                server.errorlog = "{server.ErrorLogPath}"
                server.upload-dirs = ( "{server.Folder}" )
                server.modules += ( "mod_accesslog" )
                accesslog.filename = "{server.PathIn("access.log")}"
                mimetype.assign = ( ".txt" => "text/plain" )
                include "{server.PathIn("site.conf")}"
                {extra.Replace("/run/echo", server.Folder, StringComparison.Ordinal).Replace("/srv/www", server.PathIn("www"), StringComparison.Ordinal)}
                """);
            await RunAsync(lighttpd, "-tt", "-f", config);
            server.StartProcess(lighttpd, ["-D", "-f", config]);
            await server.WaitUntilListeningAsync(new IPEndPoint(IPAddress.Loopback, server.Port));
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>The pids of the processes lighttpd spawned from <paramref name="executable"/> (its bin-path children).</summary>
    public IReadOnlyList<int> ChildrenRunning(string executable) => ProcessTable.Children(MainPid, executable);
}
