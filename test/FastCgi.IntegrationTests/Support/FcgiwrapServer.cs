using System.Net.Sockets;
using FastCgi.Testing;

namespace FastCgi.IntegrationTests.Support;

/// <summary>
/// fcgiwrap on a Unix socket in its temp folder: a FastCGI server that runs SCRIPT_FILENAME as a plain CGI program
/// for each request (so the echo sample takes its CGI fallback: fd 0 is a pipe).
/// </summary>
internal sealed class FcgiwrapServer : WebServerProcess
{
    private FcgiwrapServer()
        : base("fcgiwrap")
    {
    }

    public string SocketPath => PathIn("fcgiwrap.sock");

    /// <summary>fcgiwrap logs to its stderr; a CGI program's stderr goes to the web server as FCGI_STDERR.</summary>
    public override string ErrorLogPath => PathIn("none");

    public static async Task<FcgiwrapServer> StartAsync()
    {
        var fcgiwrap = InstalledTools.Require("fcgiwrap", "fcgiwrap");
        var server = new FcgiwrapServer();
        try
        {
            // Several children: the 50 concurrent clients are served in parallel.
            server.StartProcess(fcgiwrap, ["-c", "8", "-s", "unix:" + server.SocketPath]);
            await server.WaitUntilListeningAsync(new UnixDomainSocketEndPoint(server.SocketPath));
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }
}
