namespace FastCgi.Tool.Tests.Support;

/// <summary>The repository and the programs the test build made (the project references build them).</summary>
internal static class Paths
{
    public static string Root { get; } = FindRoot();

    /// <summary>Release or Debug, as this test assembly was built.</summary>
    public static string Configuration { get; } = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;

    /// <summary>The fcgi tool's apphost.</summary>
    public static string Tool { get; } = Built("src/FastCgi.Tool", "FastCgi.Tool");

    /// <summary>The echo sample's apphost.</summary>
    public static string Echo { get; } = Built("samples/Echo", "Echo");

    /// <summary>Finds a program on PATH (or in /usr/sbin), or fails saying what to install.</summary>
    public static string RequireTool(string name, string package)
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Append("/usr/sbin").Append("/usr/bin"))
        {
            var path = Path.Combine(directory, name);
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new InvalidOperationException($"'{name}' is not installed: apt-get install {package} (scripts/test.sh installs it).");
    }

    private static string Built(string project, string name)
    {
        var path = Path.Combine(Root, project, "bin", Configuration, "net10.0", name);
        return File.Exists(path) ? path : throw new FileNotFoundException("Not built: " + path);
    }

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "FastCgi.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("The tests must run inside the repository (FastCgi.slnx not found above " + AppContext.BaseDirectory + ").");
    }
}
