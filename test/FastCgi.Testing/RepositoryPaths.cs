namespace FastCgi.Testing;

/// <summary>Where things are in the checkout the tests run from.</summary>
public static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>The apphost of sample <paramref name="name"/> (samples/NAME), built in the configuration of the running tests.</summary>
    public static string Sample(string name)
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var path = Path.Combine(Root, "samples", name, "bin", configuration, "net10.0", name);
        return File.Exists(path) ? path : throw new FileNotFoundException($"The {name} sample was not built: {path}");
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
