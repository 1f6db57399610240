using System.Diagnostics;
using System.Text;
using Xunit;

namespace FastCgi.Tool.Tests.Support;

/// <summary>What a finished run of the tool left: exit code, standard output (bytes and text) and standard error.</summary>
internal sealed record ToolResult(int ExitCode, byte[] StdoutBytes, string Stderr)
{
    public string Stdout => Encoding.UTF8.GetString(StdoutBytes);

    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}

/// <summary>Runs the fcgi tool as a real process.</summary>
internal static class Fcgi
{
    /// <summary>Runs <c>fcgi ARGS</c> to its end (at most <paramref name="timeoutSeconds"/>, then it is killed and the test fails).</summary>
    public static async Task<ToolResult> RunAsync(IEnumerable<string> args, byte[]? stdin = null, int timeoutSeconds = 60)
    {
        var start = new ProcessStartInfo(Paths.Tool)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = new MemoryStream();
        var copyOut = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        var readErr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.BaseStream.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Assert.Fail($"fcgi {string.Join(' ', args)} did not finish in {timeoutSeconds} s; stderr: {await readErr}");
        }

        await copyOut;
        return new ToolResult(process.ExitCode, stdout.ToArray(), await readErr);
    }

    public static Task<ToolResult> RunAsync(params string[] args) => RunAsync((IEnumerable<string>)args);
}
