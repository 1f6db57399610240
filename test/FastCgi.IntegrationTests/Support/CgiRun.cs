using System.Diagnostics;
using System.Text;

namespace FastCgi.IntegrationTests.Support;

/// <summary>What a CGI run of the echo sample wrote.</summary>
internal sealed record CgiResult(byte[] Stdout, string Stderr, int ExitCode)
{
    public string Text => Encoding.UTF8.GetString(Stdout);
}

/// <summary>Runs the echo sample as a plain CGI program: environment variables, the body on stdin (a pipe, not a socket).</summary>
internal static class CgiRun
{
    public static Task<CgiResult> RunAsync(IDictionary<string, string> environ, byte[]? body = null, params string[] args) =>
        RunProgramAsync(EchoApp.Executable, args, environ, body);

    /// <summary>The variables a program run here gets besides the request's: PATH, HOME and DOTNET_ROOT.</summary>
    public static Dictionary<string, string> InheritedEnvironment()
    {
        var inherited = new Dictionary<string, string>(StringComparer.Ordinal) { ["HOME"] = Path.GetTempPath() };
        foreach (var name in new[] { "PATH", "DOTNET_ROOT" })
        {
            if (Environment.GetEnvironmentVariable(name) is { } value)
            {
                inherited[name] = value;
            }
        }

        return inherited;
    }

    /// <summary>Runs <paramref name="program"/> the way a web server runs a CGI program (cgi-fcgi is one too).</summary>
    public static async Task<CgiResult> RunProgramAsync(string program, IEnumerable<string> args, IDictionary<string, string> environ, byte[]? body = null)
    {
        var start = new ProcessStartInfo(program)
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

        // A CGI program sees the web server's variables, not the test runner's.
        start.Environment.Clear();
        foreach (var (name, value) in InheritedEnvironment())
        {
            start.Environment[name] = value;
        }

        foreach (var (name, value) in environ)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = new MemoryStream();
        var copyOut = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.StandardInput.BaseStream.WriteAsync(body ?? []);
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The program answered without reading the whole body (a form over a limit): as a web server would, go on.
        }

        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        await copyOut;
        return new CgiResult(stdout.ToArray(), await stderr, process.ExitCode);
    }
}
