namespace FastCgi.Testing;

/// <summary>The programs the tests drive that come from the system's packages (scripts/test.sh installs them).</summary>
public static class InstalledTools
{
    /// <summary>Finds a program on PATH (or in /usr/sbin, /usr/bin), or fails with a message that says what to install.</summary>
    public static string Require(string name, string package) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Append("/usr/sbin").Append("/usr/bin")
            .Select(directory => Path.Combine(directory, name))
            .FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException($"'{name}' is not installed: apt-get install {package} (scripts/test.sh installs it).");
}
