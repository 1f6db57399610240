using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using FastCgi.Protocol;
using HdrHistogram;
using Spectre.Console;

namespace FastCgi.Tool;

/// <summary><c>fcgi bench ADDRESS [PATH]</c>: a load generator for any FastCGI application.</summary>
internal static class BenchCommand
{
    private static readonly double[] Percentiles = [50, 90, 99, 99.9];

    public static Command Create()
    {
        var address = new Argument<string>("ADDRESS") { Description = Help.Address };
        var path = new Argument<string>("PATH") { Description = "The request target, path and query (default /hello).", DefaultValueFactory = _ => "/hello" };
        var connections = new Option<int>("--connections", "-c") { Description = "Connections (workers).", DefaultValueFactory = _ => 16 };
        var inFlight = new Option<int>("--in-flight", "-m") { Description = "Requests in flight on each connection, multiplexed under distinct ids (needs --keep-conn).", DefaultValueFactory = _ => 1 };
        var duration = new Option<double>("--duration", "-d") { Description = "Seconds measured, after the warm-up.", DefaultValueFactory = _ => 10 };
        var count = new Option<long?>("--requests", "-n") { Description = "Measure exactly this many requests instead of a duration." };
        var warmUp = new Option<double>("--warmup", "-w") { Description = "Seconds of load before measuring (JIT, caches, process pools).", DefaultValueFactory = _ => 1 };
        var keepConn = new Option<bool>("--keep-conn") { Description = "FCGI_KEEP_CONN: keep each connection for the whole run (true), or open one per request (false).", DefaultValueFactory = _ => true };
        var role = new Option<Role>("--role") { Description = "The role: Responder, Authorizer or Filter.", DefaultValueFactory = _ => Role.Responder };
        var bodySize = new Option<int>("--body-size") { Description = "Bytes of request body (FCGI_STDIN) in each request; the method becomes POST.", DefaultValueFactory = _ => 0 };
        var expectBody = new Option<string?>("--expect-body") { Description = "The response body each answer must have (after its CGI head); a difference counts as an error. \\n is a newline." };
        var parameters = new Option<string[]>("--param", "-p") { Description = "A PARAMS variable NAME=VALUE (replacing a default); repeatable." };
        var root = new Option<string>("--document-root") { Description = "DOCUMENT_ROOT; SCRIPT_FILENAME is it followed by the path.", DefaultValueFactory = _ => "/var/www/html" };
        var pid = new Option<int?>("--pid") { Description = "The application's process id: report its CPU time per request (with its child processes), from /proc. Default: the spawned program's." };
        var json = new Option<bool>("--json") { Description = "Print the figures as one JSON object instead of tables." };

        var command = new Command("bench", "Load a FastCGI application and report requests/s, latency percentiles and a histogram (HdrHistogram), "
            + "errors by kind, connections served, and the CPU per request of the application (--pid) and of fcgi itself. "
            + "A progress line shows on a terminal.")
        {
            address, path, connections, inFlight, duration, count, warmUp, keepConn, role, bodySize, expectBody, parameters, root, pid, json,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            var keep = result.GetValue(keepConn);
            var mpx = result.GetValue(inFlight);
            var conns = result.GetValue(connections);
            if (conns is < 1 or > 10_000 || mpx is < 1 or > 65_535 || (!keep && mpx != 1))
            {
                await Console.Error.WriteLineAsync("fcgi: --connections is 1 to 10000, --in-flight 1 to 65535, and 1 without --keep-conn").ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            var body = new byte[result.GetValue(bodySize)];
            for (var i = 0; i < body.Length; i++)
            {
                body[i] = (byte)"0123456789abcdef"[i % 16];
            }

            var target = result.GetValue(path)!;
            var cgi = CgiParams.ForRequest(new RequestLine
            {
                Method = body.Length > 0 ? "POST" : "GET",
                Target = target.StartsWith('/') ? target : "/" + target,
                ContentLength = body.Length > 0 ? body.Length : null,
                ContentType = body.Length > 0 ? "application/octet-stream" : null,
                DocumentRoot = result.GetValue(root)!,
                RemotePort = 52814,
                ServerPort = 8080,
                Headers = BrowserHeaders,
            });
            foreach (var param in result.GetValue(parameters) ?? [])
            {
                var equals = param.IndexOf('=', StringComparison.Ordinal);
                if (equals <= 0)
                {
                    await Console.Error.WriteLineAsync($"fcgi: a parameter is NAME=VALUE, not '{param}'").ConfigureAwait(false);
                    return ExitCodes.Usage;
                }

                cgi.Set(param[..equals], param[(equals + 1)..]);
            }

            var expected = result.GetValue(expectBody);
            var settings = new LoadSettings
            {
                Connections = conns,
                InFlight = mpx,
                Duration = TimeSpan.FromSeconds(result.GetValue(duration)),
                Count = result.GetValue(count),
                WarmUp = TimeSpan.FromSeconds(result.GetValue(warmUp)),
                KeepConnection = keep,
                Role = result.GetValue(role),
                Params = cgi.Pairs,
                Body = body,
                ExpectedBody = expected is null ? null : Encoding.UTF8.GetBytes(expected.Replace("\\n", "\n", StringComparison.Ordinal)),
            };
            return await RunAsync(AppAddress.Parse(result.GetValue(address)!), settings, result.GetValue(pid), result.GetValue(json), cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    // The request headers of a browser's GET, as perf/loadgen/fcgi-load.c sends them, so both measure the same PARAMS.
    private static readonly KeyValuePair<string, string>[] BrowserHeaders =
    [
        new("Host", "localhost:8080"),
        new("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"),
        new("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"),
        new("Accept-Language", "en-GB,en;q=0.7,fr;q=0.3"),
        new("Accept-Encoding", "gzip, deflate, br, zstd"),
        new("Connection", "keep-alive"),
    ];

    private static async Task<int> RunAsync(AppAddress address, LoadSettings settings, int? pid, bool json, CancellationToken cancellationToken)
    {
        if (!OperatingSystem.IsLinux())
        {
            await Console.Error.WriteLineAsync("fcgi: bench runs on Linux only (its event loops call epoll)").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        AppConnector connector;
        try
        {
            connector = AppConnector.Open(address, quiet: true);
        }
        catch (Exception e) when (e is IOException or SocketException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            await Console.Error.WriteLineAsync($"fcgi: cannot start '{address.Text}': {e.Message}").ConfigureAwait(false);
            return ExitCodes.Unreachable;
        }

        await using (connector)
        {
            var serverPid = pid ?? (connector.App?.ProcessId is > 0 and var spawned ? spawned : null);
            var generator = new LoadGenerator(settings, connector.EndPoint);
            var self = Process.GetCurrentProcess();
            long serverTicksStart = 0;
            var selfCpuStart = TimeSpan.Zero;
            using var progressStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var progress = Console.IsErrorRedirected ? null : Task.Run(() => ProgressAsync(generator, progressStop.Token), CancellationToken.None);
            var stats = await generator.RunAsync(
                () =>
                {
                    serverTicksStart = serverPid is { } p ? ProcCpu.Ticks(p) : 0;
                    self.Refresh();
                    selfCpuStart = self.TotalProcessorTime;
                },
                cancellationToken).ConfigureAwait(false);
            var serverTicks = serverPid is { } p ? ProcCpu.Ticks(p) - serverTicksStart : 0;
            self.Refresh();
            var selfCpu = self.TotalProcessorTime - selfCpuStart;
            if (progress is not null)
            {
                await progressStop.CancelAsync().ConfigureAwait(false);
                await progress.ConfigureAwait(false);
            }

            var report = Report.From(settings, generator, stats, serverPid is null ? null : serverTicks / ProcCpu.TicksPerSecond, selfCpu.TotalSeconds);
            if (json)
            {
                await Console.Out.WriteLineAsync(report.ToJson()).ConfigureAwait(false);
            }
            else
            {
                report.Render(AnsiConsole.Console);
            }

            return report.ErrorCount == 0 && report.Completed > 0 ? ExitCodes.Completed : ExitCodes.Incomplete;
        }
    }

    private static async Task ProgressAsync(LoadGenerator generator, CancellationToken cancellationToken)
    {
        var stderr = Console.Error;
        var start = Stopwatch.GetTimestamp();
        long lastCount = 0;
        var lastTime = start;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                var now = Stopwatch.GetTimestamp();
                var measuring = now >= generator.MeasureFrom;
                var done = generator.CompletedLive;
                var rate = (done - lastCount) / Stopwatch.GetElapsedTime(lastTime, now).TotalSeconds;
                lastCount = done;
                lastTime = now;
                var phase = measuring ? "measuring" : "warming up";
                await stderr.WriteAsync(string.Create(CultureInfo.InvariantCulture, $"\r{Stopwatch.GetElapsedTime(start, now).TotalSeconds,6:F0} s  {phase,-10}  {done,10:N0} done  {rate,9:N0} req/s  {generator.FailedLive:N0} errors   ")).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // The run ended (or Ctrl+C): the report follows.
        }

        await stderr.WriteAsync("\r" + new string(' ', 79) + "\r").ConfigureAwait(false);
    }

    /// <summary>The figures of one run.</summary>
    private sealed class Report
    {
        public required LoadSettings Settings { get; init; }

        public long Sent { get; init; }

        public long Completed { get; init; }

        public required SortedDictionary<string, long> Errors { get; init; }

        public long ErrorCount => Errors.Values.Sum();

        public double Seconds { get; init; }

        public double RequestsPerSecond => Seconds > 0 ? Completed / Seconds : 0;

        public required LongHistogram Latency { get; init; }

        public long ConnectionsServed { get; init; }

        public double? ServerCpuSeconds { get; init; }

        public double ClientCpuSeconds { get; init; }

        public static Report From(LoadSettings settings, LoadGenerator generator, WorkerStats[] stats, double? serverCpu, double clientCpu)
        {
            var latency = new LongHistogram(1, 3_600_000_000L, 3);
            var errors = new SortedDictionary<string, long>(StringComparer.Ordinal);
            long completed = 0;
            long served = 0;
            long last = generator.MeasureFrom;
            foreach (var worker in stats)
            {
                latency.Add(worker.Latency);
                completed += worker.Completed;
                served += worker.ConnectionsServed;
                last = Math.Max(last, worker.LastCompletion);
                foreach (var (kind, n) in worker.Errors)
                {
                    errors[kind] = errors.GetValueOrDefault(kind) + n;
                }
            }

            return new Report
            {
                Settings = settings,
                Sent = generator.Sent,
                Completed = completed,
                Errors = errors,
                Seconds = generator.MeasureFrom == long.MaxValue ? 0 : Stopwatch.GetElapsedTime(generator.MeasureFrom, last).TotalSeconds,
                Latency = latency,
                ConnectionsServed = served,
                ServerCpuSeconds = serverCpu,
                ClientCpuSeconds = clientCpu,
            };
        }

        private double? PerRequestMicroseconds(double? cpuSeconds) => cpuSeconds is { } s && Completed > 0 ? s * 1e6 / Completed : null;

        private long Percentile(double p) => Latency.TotalCount == 0 ? 0 : Latency.GetValueAtPercentile(p);

        /// <summary>Latency bins that double in width, from the bin of the fastest answer to that of the slowest.</summary>
        private List<(long From, long To, long Count)> Bins()
        {
            var bins = new List<(long From, long To, long Count)>();
            foreach (var value in Latency.RecordedValues())
            {
                var v = value.ValueIteratedTo;
                var from = 1L << (63 - (int)long.LeadingZeroCount(Math.Max(1, v)));
                if (bins.Count == 0 || bins[^1].From != from)
                {
                    while (bins.Count > 0 && bins[^1].From * 2 < from)
                    {
                        bins.Add((bins[^1].From * 2, (bins[^1].From * 4) - 1, 0));
                    }

                    bins.Add((from, (from * 2) - 1, 0));
                }

                bins[^1] = (bins[^1].From, bins[^1].To, bins[^1].Count + value.CountAddedInThisIterationStep);
            }

            return bins;
        }

        public string ToJson()
        {
            using var stream = new MemoryStream();
            using (var w = new Utf8JsonWriter(stream))
            {
                w.WriteStartObject();
                w.WriteNumber("connections", Settings.Connections);
                w.WriteNumber("inFlight", Settings.InFlight);
                w.WriteBoolean("keepConn", Settings.KeepConnection);
                w.WriteNumber("sent", Sent);
                w.WriteNumber("completed", Completed);
                w.WriteNumber("errors", ErrorCount);
                w.WriteStartObject("errorsByKind");
                foreach (var (kind, n) in Errors)
                {
                    w.WriteNumber(kind, n);
                }

                w.WriteEndObject();
                w.WriteNumber("seconds", Math.Round(Seconds, 3));
                w.WriteNumber("requestsPerSecond", Math.Round(RequestsPerSecond, 1));
                w.WriteStartObject("latencyMicroseconds");
                w.WriteNumber("p50", Percentile(50));
                w.WriteNumber("p90", Percentile(90));
                w.WriteNumber("p99", Percentile(99));
                w.WriteNumber("p99.9", Percentile(99.9));
                w.WriteNumber("max", Latency.TotalCount == 0 ? 0 : Latency.GetMaxValue());
                w.WriteNumber("mean", Latency.TotalCount == 0 ? 0 : Math.Round(Latency.GetMean(), 1));
                w.WriteEndObject();
                w.WriteStartArray("histogram");
                foreach (var (from, to, n) in Bins())
                {
                    w.WriteStartObject();
                    w.WriteNumber("fromMicroseconds", from);
                    w.WriteNumber("toMicroseconds", to);
                    w.WriteNumber("count", n);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteNumber("connectionsServed", ConnectionsServed);
                if (PerRequestMicroseconds(ServerCpuSeconds) is { } server)
                {
                    w.WriteNumber("serverCpuMicrosecondsPerRequest", Math.Round(server, 2));
                }

                if (PerRequestMicroseconds(ClientCpuSeconds) is { } client)
                {
                    w.WriteNumber("clientCpuMicrosecondsPerRequest", Math.Round(client, 2));
                }

                w.WriteEndObject();
            }

            return Encoding.UTF8.GetString(stream.ToArray());
        }

        public void Render(IAnsiConsole console)
        {
            var figures = new Table().AddColumn("figure").AddColumn(new TableColumn("value").RightAligned());
            figures.AddRow("connections × in flight", Invariant($"{Settings.Connections} × {Settings.InFlight}{(Settings.KeepConnection ? "" : " (a connection per request)")}"));
            figures.AddRow("requests sent / completed", Invariant($"{Sent:N0} / {Completed:N0}"));
            figures.AddRow("seconds", Invariant($"{Seconds:F2}"));
            figures.AddRow("[bold]requests/s[/]", Invariant($"[bold]{RequestsPerSecond:N0}[/]"));
            foreach (var p in Percentiles)
            {
                figures.AddRow(Invariant($"latency p{p}"), Invariant($"{Percentile(p):N0} µs"));
            }

            figures.AddRow("latency max", Invariant($"{(Latency.TotalCount == 0 ? 0 : Latency.GetMaxValue()):N0} µs"));
            figures.AddRow("connections served", Invariant($"{ConnectionsServed:N0}"));
            if (PerRequestMicroseconds(ServerCpuSeconds) is { } server)
            {
                figures.AddRow("application CPU per request", Invariant($"{server:F2} µs"));
            }

            figures.AddRow("fcgi CPU per request", Invariant($"{PerRequestMicroseconds(ClientCpuSeconds) ?? 0:F2} µs"));
            figures.AddRow("errors", Invariant($"{ErrorCount:N0}"));
            foreach (var (kind, n) in Errors)
            {
                figures.AddRow("  " + Markup.Escape(kind), Invariant($"{n:N0}"));
            }

            console.Write(figures);
            var chart = new BarChart().Label("latency histogram (µs)").Width(72);
            foreach (var (from, to, n) in Bins())
            {
                chart.AddItem(Invariant($"{from,7:N0} – {to,-7:N0}"), n, Color.Green);
            }

            console.Write(chart);
        }

        private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
    }
}
