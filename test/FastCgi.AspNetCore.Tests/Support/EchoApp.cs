namespace FastCgi.IntegrationTests.Support;

/// <summary>
/// The application the shared web server helpers copy and start (they call it EchoApp after FastCgi.Tests' sample):
/// here the ASP.NET Core sample, as the test build made it.
/// </summary>
internal static class EchoApp
{
    /// <summary>The apphost <c>AspNetCoreApp</c> of the same configuration as this test assembly.</summary>
    public static string Executable { get; } = SampleApp.Executable;

    /// <summary>Finds a program on PATH, or fails with a message that says what to install.</summary>
    public static string RequireTool(string name, string package) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Append("/usr/sbin").Append("/usr/bin")
            .Select(directory => Path.Combine(directory, name))
            .FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException($"'{name}' is not installed: apt-get install {package} (scripts/test.sh installs it).");
}
