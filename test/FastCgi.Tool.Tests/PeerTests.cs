using System.Security.Cryptography;
using FastCgi.Tool.Tests.Support;
using Xunit;

namespace FastCgi.Tool.Tests;

/// <summary><c>fcgi request</c> and <c>get-values</c> against applications not built on this library: libfcgi (C) and php-fpm.</summary>
public sealed class PeerTests
{
    [Fact]
    public async Task Libfcgi_program_answers_requests()
    {
        var (server, address) = await NativeApps.StartLibfcgiAsync();
        await using (server)
        {
            var hello = await Fcgi.RunAsync("request", "--keep-conn", address, "/hello");
            Assert.True(hello.ExitCode == 0, hello.ToString());
            Assert.Equal("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nHello, world!\n", hello.Stdout);

            var data = new byte[200_000];
            new Random(3).NextBytes(data);
            var upload = await Fcgi.RunAsync(["request", "-d", "-", address, "/upload"], stdin: data);
            Assert.Equal($"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{{\"length\": {data.Length}, \"sha256\": \"{Convert.ToHexStringLower(SHA256.HashData(data))}\"}}", upload.Stdout);
        }
    }

    [Fact]
    public async Task Libfcgi_program_answers_get_values_with_its_fixed_values()
    {
        // libfcgi's ProcessManagementRecord answers 1, 1 and 0 whatever the threads, in the order asked; it answers
        // only once the next record comes, which `fcgi get-values` sends after a second without an answer.
        var (server, address) = await NativeApps.StartLibfcgiAsync(threads: 4);
        await using (server)
        {
            var values = await Fcgi.RunAsync("get-values", "-v", address);
            Assert.True(values.ExitCode == 0, values.ToString());
            Assert.Equal("FCGI_MAX_CONNS=1\nFCGI_MAX_REQS=1\nFCGI_MPXS_CONNS=0\n", values.Stdout);
            Assert.Contains("> GET_VALUES id=0 len=0", values.Stderr, StringComparison.Ordinal);

            var reordered = await Fcgi.RunAsync("get-values", "-n", "FCGI_MPXS_CONNS", "-n", "FCGI_UNKNOWN", "-n", "FCGI_MAX_REQS", address);
            Assert.True(reordered.ExitCode == 0, reordered.ToString());
            Assert.Equal("FCGI_MPXS_CONNS=0\nFCGI_MAX_REQS=1\n", reordered.Stdout);
        }
    }

    [Fact]
    public async Task Php_fpm_runs_a_script_with_the_params_and_body_sent_and_answers_get_values()
    {
        var (server, address) = await NativeApps.StartPhpFpmAsync(new Dictionary<string, string>
        {
            ["hello.php"] = """
                <?php
                header('Content-Type: text/plain');
                header('X-Method: ' . $_SERVER['REQUEST_METHOD']);
                echo 'q=', $_GET['q'] ?? '', ' body=', file_get_contents('php://input'), ' extra=', $_SERVER['EXTRA'] ?? '', "\n";
                """,
            ["missing.php"] = "<?php http_response_code(404); echo 'gone';",
        });
        await using (server)
        {
            var body = Path.GetTempFileName();
            await File.WriteAllTextAsync(body, "x=1&y=2");
            try
            {
                var result = await Fcgi.RunAsync("request", "--document-root", server.Directory, "-p", "EXTRA=yes", "-d", body, "--content-type", "application/x-www-form-urlencoded", address, "/hello.php?q=fcgi");
                Assert.True(result.ExitCode == 0, result + server.Output);
                Assert.Equal("HTTP/1.1 200 OK\r\nContent-type: text/plain;charset=UTF-8\r\nX-Method: POST\r\n\r\nq=fcgi body=x=1&y=2 extra=yes\n", result.Stdout);
            }
            finally
            {
                File.Delete(body);
            }

            var notFound = await Fcgi.RunAsync("request", "--document-root", server.Directory, address, "/missing.php");
            Assert.Equal("HTTP/1.1 404 Not Found\r\nContent-type: text/html; charset=UTF-8\r\n\r\ngone", notFound.Stdout);

            // php-fpm answers only the variable it knows for sure.
            var values = await Fcgi.RunAsync("get-values", address);
            Assert.True(values.ExitCode == 0, values.ToString());
            Assert.Equal("FCGI_MPXS_CONNS=0\n", values.Stdout);
        }
    }
}
