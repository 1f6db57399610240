using BenchmarkDotNet.Running;

// `dotnet run -c Release --project perf/FastCgi.Benchmarks -- --filter '*'` (add `--job short` for a quick run).
BenchmarkSwitcher.FromAssembly(typeof(FastCgi.Benchmarks.Wire).Assembly).Run(args);
