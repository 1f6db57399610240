using System.Globalization;

namespace FastCgi.Tests.Support;

/// <summary>Reads /proc: which processes a server started.</summary>
internal static class ProcessTable
{
    /// <summary>The live children of <paramref name="parent"/> whose executable is <paramref name="executable"/>.</summary>
    public static IReadOnlyList<int> Children(int parent, string executable)
    {
        var children = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces, so split after the last ')'.
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                var ppid = int.Parse(fields[1], CultureInfo.InvariantCulture);
                if (ppid == parent && fields[0] != "Z" && File.ResolveLinkTarget(Path.Combine(directory, "exe"), false)?.FullName == executable)
                {
                    children.Add(pid);
                }
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                // The process ended while it was being read.
            }
        }

        return children;
    }
}
