using FastCgi.Tests.Support;
using Xunit;
using static FastCgi.Testing.CgiVariables;
using static FastCgi.Testing.FcgiRecords;

namespace FastCgi.Tests.Connection;

/// <summary>What the server logs: connections, requests and protocol errors with their ids, never a secret.</summary>
public sealed class LoggingTests
{
    [Fact]
    public async Task Requests_and_protocol_errors_are_logged_with_ids_and_without_cookies_or_authorization()
    {
        var logs = new CapturingLoggerFactory();
        var options = new FastCgiServerOptions { LoggerFactory = logs };
        await using (var connection = new InMemoryConnection(() => new Hello(), options))
        {
            var secrets = new Dictionary<string, string> { ["HTTP_COOKIE"] = "session=s3cr3t-cookie", ["HTTP_AUTHORIZATION"] = "Bearer s3cr3t-token" };
            await connection.WebServer.SendAsync(Request(7, Environ("/hello", extra: secrets), []));
            await connection.WebServer.ReadResponseAsync(7);
            await connection.WebServer.SendAsync(Record(Params, 1, [], version: 9));
            await connection.Run.WaitAsync(TimeSpan.FromSeconds(5));
        }

        Assert.Contains("Debug FastCgi.Connection: Connection 1 request 7 begun as Responder", logs.Lines);
        Assert.Contains("Debug FastCgi.Connection: Connection 1 request 7 ended (aborted: None)", logs.Lines);
        Assert.Contains("Warning FastCgi.Connection: Connection 1 closed: protocol error UnsupportedVersion: Record version 9 is not FastCGI 1.0.", logs.Lines);
        Assert.Contains("Debug FastCgi.Server: Connection 1 opened from unix", logs.Lines);
        Assert.DoesNotContain(logs.Lines, line => line.Contains("s3cr3t", StringComparison.Ordinal));
    }

    private sealed class Hello : Handler
    {
        public override void Process(Request request) => request.Write("hi");
    }
}
