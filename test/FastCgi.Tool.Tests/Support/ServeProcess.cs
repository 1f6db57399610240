using System.Diagnostics;
using Xunit;

namespace FastCgi.Tool.Tests.Support;

/// <summary><c>fcgi serve</c> running on a free loopback port; its log lines can be awaited.</summary>
internal sealed class ServeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly SemaphoreSlim _newLine = new(0);

    private ServeProcess(Process process, string baseUrl)
    {
        _process = process;
        BaseUrl = baseUrl;
    }

    /// <summary>http://127.0.0.1:PORT/</summary>
    public string BaseUrl { get; }

    public string Log
    {
        get
        {
            lock (_lines)
            {
                return string.Join('\n', _lines);
            }
        }
    }

    /// <summary>Starts <c>fcgi serve -v ARGS</c> and waits (at most 60 s) for its "serving" line.</summary>
    public static async Task<ServeProcess> StartAsync(params string[] args)
    {
        var port = ServerProcess.FreeTcpPort();
        var start = new ProcessStartInfo(Paths.Tool)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])["serve", "-v", "--listen", $"127.0.0.1:{port}", .. args])
        {
            start.ArgumentList.Add(arg);
        }

        var serve = new ServeProcess(Process.Start(start)!, $"http://127.0.0.1:{port}/");
        serve._process.OutputDataReceived += (_, e) => serve.Append(e.Data);
        serve._process.ErrorDataReceived += (_, e) => serve.Append(e.Data);
        serve._process.BeginOutputReadLine();
        serve._process.BeginErrorReadLine();
        await serve.WaitForLineAsync(l => l.StartsWith("fcgi serve: http://", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        return serve;
    }

    /// <summary>Waits until a log line matches, or fails after <paramref name="timeout"/>.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        var seen = 0;
        while (true)
        {
            lock (_lines)
            {
                for (; seen < _lines.Count; seen++)
                {
                    if (match(_lines[seen]))
                    {
                        return _lines[seen];
                    }
                }
            }

            var left = TimeSpan.FromSeconds((double)(deadline - Stopwatch.GetTimestamp()) / Stopwatch.Frequency);
            if (left <= TimeSpan.Zero || _process.HasExited && !await _newLine.WaitAsync(TimeSpan.FromMilliseconds(100)))
            {
                Assert.Fail($"No such line from fcgi serve within {timeout.TotalSeconds} s; log:\n{Log}");
            }

            await _newLine.WaitAsync(left);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // The applications serve spawned are its children: they go too.
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
        _newLine.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_lines)
        {
            _lines.Add(line);
        }

        _newLine.Release();
    }
}
