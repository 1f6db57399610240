using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using FastCgi.Connection;
using FastCgi.Protocol;
using FastCgi.Server;
using Xunit;

namespace FastCgi.Tests.Server;

/// <summary>
/// The CGI fallback of every application model: one CGI call served as a Responder request over a FastCGI
/// connection in memory, the environment as PARAMS, stdin as the body, STDOUT and STDERR to stdout and stderr.
/// </summary>
public sealed class CgiHostTests
{
    private static readonly Dictionary<string, string> Get = new(StringComparer.Ordinal)
    {
        ["REQUEST_METHOD"] = "GET",
        ["SCRIPT_NAME"] = "/cgi-bin/app",
        ["QUERY_STRING"] = "a=1",
    };

    [Fact]
    public async Task Environment_is_the_params_stdout_and_stderr_are_the_streams_and_the_exit_code_the_app_status()
    {
        var app = new App(async request =>
        {
            var names = string.Join(",", request.Params.OrderBy(pair => pair.Key, StringComparer.Ordinal).Select(pair => $"{pair.Key}={pair.Value}"));
            request.Output.Write(Encoding.ASCII.GetBytes($"Content-Type: text/plain\r\n\r\n{request.Role} {names}"));
            request.Error.Write("logged\n"u8);
            await request.CompleteAsync(appStatus: 3);
        });

        var (exitCode, stdout, stderr) = await RunAsync(app, Get);

        Assert.Equal(3, exitCode);
        Assert.Equal("Content-Type: text/plain\r\n\r\nResponder QUERY_STRING=a=1,REQUEST_METHOD=GET,SCRIPT_NAME=/cgi-bin/app", stdout);
        Assert.Equal("logged\n", stderr);
    }

    [Fact]
    public async Task The_body_is_CONTENT_LENGTH_bytes_of_stdin_and_what_follows_is_not_read()
    {
        var body = new byte[200_000];
        new Random(5).NextBytes(body);
        var environ = new Dictionary<string, string>(Get) { ["REQUEST_METHOD"] = "POST", ["CONTENT_LENGTH"] = "200000" };
        var app = new App(async request =>
        {
            var read = await ReadAllAsync(request.Body);
            request.Output.Write(Encoding.ASCII.GetBytes($"{read.Length} {read.AsSpan().SequenceEqual(body)}"));
        });

        var (exitCode, stdout, _) = await RunAsync(app, environ, [.. body, .. "not the body"u8.ToArray()]);

        Assert.Equal((0, "200000 True"), (exitCode, stdout));
    }

    [Fact]
    public async Task Without_CONTENT_LENGTH_the_body_is_empty()
    {
        var app = new App(async request => request.Output.Write(Encoding.ASCII.GetBytes($"{(await ReadAllAsync(request.Body)).Length}")));

        var (exitCode, stdout, _) = await RunAsync(app, Get, "not a body"u8.ToArray());

        Assert.Equal((0, "0"), (exitCode, stdout));
    }

    [Fact]
    public async Task A_response_broken_off_keeps_what_was_flushed_and_exits_with_1()
    {
        var app = new App(async request =>
        {
            request.Output.Write("Content-Type: text/plain\r\n\r\npart"u8);
            await request.Output.FlushAsync();
            request.Output.Write("never sent"u8);
            await request.FailAsync();
        });

        var (exitCode, stdout, _) = await RunAsync(app, Get);

        Assert.Equal((1, "Content-Type: text/plain\r\n\r\npart"), (exitCode, stdout));
    }

    [Fact]
    public async Task Cancelling_aborts_the_request_as_the_web_server_would()
    {
        using var stop = new CancellationTokenSource();
        var app = new App(async request =>
        {
            await stop.CancelAsync();
            request.Output.Write(Encoding.ASCII.GetBytes($"{request.Aborted.IsCancellationRequested} {request.AbortReason}"));
        });

        var (exitCode, stdout, _) = await RunAsync(app, Get, cancellationToken: stop.Token);

        Assert.Equal((0, "True WebServer"), (exitCode, stdout));
    }

    [Fact]
    public async Task The_host_returns_only_once_the_application_returned()
    {
        var returned = false;
        var app = new App(async request =>
        {
            await request.CompleteAsync();
            await Task.Yield();
            returned = true;
        });

        await RunAsync(app, Get);

        Assert.True(returned);
    }

    [Fact]
    public async Task An_application_without_the_Responder_role_is_refused()
    {
        var app = new App(_ => Task.CompletedTask, Role.Authorizer);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => RunAsync(app, Get));

        Assert.Equal("Started as a CGI program, but the application does not play the Responder role.", error.Message);
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(
        IFastCgiApplication app, Dictionary<string, string> environ, byte[]? stdin = null, CancellationToken cancellationToken = default)
    {
        using var stdout = new MemoryStream();
        using var stderr = new MemoryStream();
        var exitCode = await CgiHost.RunAsync(app, new FastCgiHostOptions(), environ, new MemoryStream(stdin ?? []), stdout, stderr, cancellationToken);
        return (exitCode, Encoding.ASCII.GetString(stdout.ToArray()), Encoding.ASCII.GetString(stderr.ToArray()));
    }

    private static async Task<byte[]> ReadAllAsync(PipeReader body)
    {
        using var copy = new MemoryStream();
        await body.CopyToAsync(copy);
        return copy.ToArray();
    }

    /// <summary>An application of one delegate, for one role.</summary>
    private sealed class App(Func<FastCgiRequestContext, Task> serve, Role role = Role.Responder) : IFastCgiApplication
    {
        public bool Accepts(Role requested) => requested == role;

        public async ValueTask ProcessRequestAsync(FastCgiRequestContext request) => await serve(request);
    }
}
