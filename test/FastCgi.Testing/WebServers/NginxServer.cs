using System.Net;

namespace FastCgi.Testing;

/// <summary>
/// nginx in the foreground with its own config: a test-only main config (pid, logs and temp paths in the temp folder,
/// an access log that records the upstream address) around one site snippet from docs/snippets.
/// </summary>
public sealed class NginxServer : WebServerProcess
{
    private NginxServer()
        : base("nginx")
    {
    }

    public int Port { get; private set; }

    public Uri BaseUri => new("http://127.0.0.1:" + Text(Port) + "/");

    public override string ErrorLogPath => PathIn("error.log");

    /// <summary>One line per request: method, URI, status, body bytes sent, upstream address(es).</summary>
    public string AccessLogPath => PathIn("access.log");

    public static Task<NginxServer> StartAsync(string snippet, IReadOnlyDictionary<string, string>? more = null) =>
        StartAsync(server => Snippets.Render(snippet, server, server.Port, more));

    /// <summary>Starts nginx with the site config <paramref name="site"/> makes for it.</summary>
    public static async Task<NginxServer> StartAsync(Func<NginxServer, string> site)
    {
        var nginx = InstalledTools.Require("nginx", "nginx-light");
        var server = new NginxServer();
        try
        {
            server.Port = FreeTcpPort();
            Directory.CreateDirectory(server.PathIn("www"));
            File.Copy("/etc/nginx/fastcgi_params", server.PathIn("fastcgi_params"));
            server.WriteFile("site.conf", site(server));
            var config = server.WriteFile("nginx.conf", $$"""
                daemon off;
                user root;
                worker_processes 2;
                pid {{server.PathIn("nginx.pid")}};
                error_log {{server.ErrorLogPath}} info;
                events {
                    worker_connections 1024;
                }
                http {
                    log_format interop '$request_method $request_uri $status $body_bytes_sent $upstream_addr';
                    access_log {{server.AccessLogPath}} interop;
                    client_body_temp_path {{server.PathIn("client_body_temp")}};
                    fastcgi_temp_path {{server.PathIn("fastcgi_temp")}};
                    proxy_temp_path {{server.PathIn("proxy_temp")}};
                    include {{server.PathIn("site.conf")}};
                }
                """);
            server.StartProcess(nginx, ["-p", server.Folder, "-c", config, "-e", server.ErrorLogPath]);
            await server.WaitUntilListeningAsync(new IPEndPoint(IPAddress.Loopback, server.Port));
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public string AccessLog() => ReadShared(AccessLogPath);

    /// <summary>Waits until the access log has <paramref name="lines"/> lines (nginx logs after the response).</summary>
    public async Task<string[]> WaitForAccessLogLinesAsync(int lines) =>
        (await WaitForLogAsync(AccessLogPath, text => text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length >= lines))
        .Split('\n', StringSplitOptions.RemoveEmptyEntries);
}
