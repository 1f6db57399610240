// The .NET runtime's own footprint on this machine, the floor under any JIT application's peak RSS: a console
// program that starts, writes one line and reads its peak resident set (VmHWM, kB) back from /proc.
var status = File.ReadAllLines("/proc/self/status");
Console.WriteLine(status.First(line => line.StartsWith("VmHWM:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
