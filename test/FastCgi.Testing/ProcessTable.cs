using System.Globalization;

namespace FastCgi.Testing;

/// <summary>Reads /proc: which processes a server started.</summary>
public static class ProcessTable
{
    /// <summary>The live children of <paramref name="parent"/> whose executable is <paramref name="executable"/>.</summary>
    public static IReadOnlyList<int> Children(int parent, string executable) =>
        All().Where(p => p.Parent == parent && ExecutableOf(p.Pid) == executable).Select(p => p.Pid).ToList();

    /// <summary>Every live descendant of <paramref name="ancestor"/>.</summary>
    public static IReadOnlyList<int> Descendants(int ancestor)
    {
        var all = All();
        var found = new List<int>();
        var frontier = new Queue<int>([ancestor]);
        while (frontier.TryDequeue(out var parent))
        {
            foreach (var (pid, _) in all.Where(p => p.Parent == parent))
            {
                found.Add(pid);
                frontier.Enqueue(pid);
            }
        }

        return found;
    }

    public static bool IsAlive(int pid) => All().Any(p => p.Pid == pid);

    private static string? ExecutableOf(int pid)
    {
        try
        {
            return File.ResolveLinkTarget($"/proc/{pid}/exe", false)?.FullName;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The live (not zombie) processes with their parents, from /proc/PID/stat.</summary>
    private static List<(int Pid, int Parent)> All()
    {
        var processes = new List<(int, int)>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                // "pid (comm) state ppid ...": comm may hold spaces, so split after the last ')'.
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (fields[0] != "Z")
                {
                    processes.Add((pid, int.Parse(fields[1], CultureInfo.InvariantCulture)));
                }
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                // The process ended while it was being read.
            }
        }

        return processes;
    }
}
