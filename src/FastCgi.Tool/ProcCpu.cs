using System.Globalization;

namespace FastCgi.Tool;

/// <summary>CPU time of a process and its descendants (php-fpm's workers, a shell's child) from /proc.</summary>
internal static class ProcCpu
{
    /// <summary>The clock ticks per second of /proc's utime and stime; 100 on Linux.</summary>
    public const double TicksPerSecond = 100;

    /// <summary>utime + stime, in clock ticks, of <paramref name="pid"/> and every process below it.</summary>
    public static long Ticks(int pid)
    {
        var children = new Dictionary<int, List<int>>();
        var ticks = new Dictionary<int, long>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                continue;
            }

            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(directory, "stat"));
            }
            catch (IOException)
            {
                continue;
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }

            // The command name may hold spaces and parentheses: fields are counted after the last ')'.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var parent = int.Parse(fields[1], CultureInfo.InvariantCulture);
            ticks[id] = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            if (!children.TryGetValue(parent, out var list))
            {
                children[parent] = list = [];
            }

            list.Add(id);
        }

        long total = 0;
        var pending = new Stack<int>([pid]);
        while (pending.Count > 0)
        {
            var id = pending.Pop();
            total += ticks.GetValueOrDefault(id);
            foreach (var child in children.GetValueOrDefault(id) ?? [])
            {
                pending.Push(child);
            }
        }

        return total;
    }
}
