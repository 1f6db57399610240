using System.Diagnostics;
using System.Security;
using System.Text.RegularExpressions;
using FastCgi.Testing;
using Xunit;

namespace FastCgi.IntegrationTests.Packages;

/// <summary>
/// The tests of applications built from the packages. They run alone: a publish, NativeAOT above all, takes both
/// cores for a while, which would skew the timing of the tests beside it.
/// </summary>
[CollectionDefinition(nameof(PackageConsumers), DisableParallelization = true)]
public sealed class PackageConsumers : ICollectionFixture<PackageFeed>;

/// <summary>
/// The packages of src/ (FastCgi, FastCgi.AspNetCore, the tool FastCgi.Tool) packed once (<c>dotnet pack</c>, in the
/// tests' configuration) into a folder that fresh applications restore from, as a user's restore from nuget.org: their nuget.config adds the folder to the machine's own sources.
/// They restore into a package folder of their own, so that a package of the same version from an earlier run is
/// never taken for this one; the machine's package folder serves the rest (the runtime packs, the ILCompiler).
/// </summary>
public sealed partial class PackageFeed : IAsyncLifetime
{
    /// <summary>No build server that would outlive the test (MSBuild nodes, the compiler server); plain lines of output.</summary>
    private static readonly string[] BuildOptions = ["--disable-build-servers", "-tl:off"];

    private readonly string _root = Directory.CreateTempSubdirectory("fastcgi-packages-").FullName;

    /// <summary>The version the packages were packed with (src/Directory.Build.props).</summary>
    public string Version { get; private set; } = "";

    /// <summary>Where the applications' restores put the packages they took from the feed or the machine's sources.</summary>
    public string RestoredPackages => Path.Combine(_root, "packages");

    public async ValueTask InitializeAsync()
    {
        var feed = Path.Combine(_root, "feed");
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        // Packing the tool and FastCgi.AspNetCore builds FastCgi, which is then packed as built.
        (await DotnetAsync(RepositoryPaths.Root, ["pack", "src/FastCgi.Tool", "-c", configuration, "-o", feed, .. BuildOptions], restoreIsolated: false)).AssertSucceeded();
        (await DotnetAsync(RepositoryPaths.Root, ["pack", "src/FastCgi.AspNetCore", "-c", configuration, "-o", feed, .. BuildOptions], restoreIsolated: false)).AssertSucceeded();
        (await DotnetAsync(RepositoryPaths.Root, ["pack", "src/FastCgi", "-c", configuration, "--no-build", "-o", feed, .. BuildOptions], restoreIsolated: false)).AssertSucceeded();
        Version = Directory.GetFiles(feed, "FastCgi.*.nupkg")
            .Select(path => LibraryPackage().Match(Path.GetFileName(path)))
            .Single(match => match.Success).Groups[1].Value;

        var machinePackages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        await File.WriteAllTextAsync(Path.Combine(_root, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="fastcgi-packed" value="{SecurityElement.Escape(feed)}" />
              </packageSources>
              <fallbackPackageFolders>
                <add key="machine" value="{SecurityElement.Escape(machinePackages)}" />
              </fallbackPackageFolders>
            </configuration>
            """);
    }

    public ValueTask DisposeAsync()
    {
        Directory.Delete(_root, recursive: true);
        return ValueTask.CompletedTask;
    }

    /// <summary>Writes a fresh application project (NAME/NAME.csproj and Program.cs) beside the nuget.config.</summary>
    public string CreateApplication(string name, string project, string program)
    {
        var directory = Directory.CreateDirectory(Path.Combine(_root, name)).FullName;
        File.WriteAllText(Path.Combine(directory, name + ".csproj"), project);
        File.WriteAllText(Path.Combine(directory, "Program.cs"), program);
        return directory;
    }

    /// <summary>Publishes the application in <paramref name="project"/> into its own folder, OUTPUT; returns that folder and what dotnet said.</summary>
    public async Task<(string Directory, DotnetRun Run)> PublishAsync(string project, string output, params string[] args)
    {
        var directory = Path.Combine(_root, "out", output);
        var run = await DotnetAsync(project, ["publish", "-c", "Release", "-o", directory, .. args, .. BuildOptions], restoreIsolated: true);
        return (directory, run);
    }

    /// <summary>Installs the .NET tool <paramref name="package"/> from the feed into a folder of its own (<c>--tool-path</c>); returns that folder and what dotnet said.</summary>
    public async Task<(string Directory, DotnetRun Run)> InstallToolAsync(string package)
    {
        var directory = Path.Combine(_root, "tools");
        var run = await DotnetAsync(_root, ["tool", "install", package, "--version", Version, "--tool-path", directory], restoreIsolated: true);
        return (directory, run);
    }

    /// <summary>
    /// Runs the .NET CLI as a user would, without the MSBuild variables of the test run's own build.
    /// </summary>
    private async Task<DotnetRun> DotnetAsync(string directory, string[] args, bool restoreIsolated)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var name in start.Environment.Keys.Where(name => name.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }

        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        if (restoreIsolated)
        {
            start.Environment["NUGET_PACKAGES"] = RestoredPackages;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(10));
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return new DotnetRun($"dotnet {string.Join(' ', args)}", process.ExitCode, await stdout + await stderr);
    }

    /// <summary>FastCgi.VERSION.nupkg, not FastCgi.AspNetCore.VERSION.nupkg: a version starts with a digit.</summary>
    [GeneratedRegex(@"^FastCgi\.([0-9][^/]*)\.nupkg$")]
    private static partial Regex LibraryPackage();
}

/// <summary>What a run of the .NET CLI printed, and how it ended.</summary>
public sealed partial record DotnetRun(string Command, int ExitCode, string Output)
{
    /// <summary>
    /// Every warning line, whichever tool wrote it: the compiler and MSBuild (<c>file(1,2): warning CS0168</c>), NuGet,
    /// the trimmer (<c>ILLink : Trim analysis warning IL2026</c>) and the NativeAOT compiler (<c>AOT analysis warning IL3050</c>).
    /// </summary>
    public IReadOnlyList<string> Warnings => Output.Split('\n').Where(line => WarningLine().IsMatch(line)).Select(line => line.Trim()).Distinct().ToList();

    public void AssertSucceeded() => Assert.True(ExitCode == 0, $"{Command} exited with {ExitCode}:\n{Output}");

    [GeneratedRegex(@"\bwarning\b")]
    private static partial Regex WarningLine();
}
