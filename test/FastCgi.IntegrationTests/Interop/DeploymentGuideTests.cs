using FastCgi.Testing;
using Xunit;

namespace FastCgi.IntegrationTests.Interop;

/// <summary>
/// The guides show the snippets the interoperability tests run, word for word: docs/aspnetcore.md those of ASP.NET
/// Core applications (<c>*-aspnetcore*</c>), docs/deployment.md the others.
/// </summary>
public sealed class DeploymentGuideTests
{
    public static TheoryData<string> SnippetNames => [.. Directory.GetFiles(Snippets.Folder).Select(path => Path.GetFileName(path)).Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(SnippetNames))]
    public void The_guide_shows_the_snippet_verbatim(string name)
    {
        var guide = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "docs", name.Contains("-aspnetcore", StringComparison.Ordinal) ? "aspnetcore.md" : "deployment.md"));
        Assert.Contains("`docs/snippets/" + name + "`", guide, StringComparison.Ordinal);
        Assert.Contains("\n" + Snippets.Read(name) + "```\n", guide, StringComparison.Ordinal);
    }
}

/// <summary>The versions of the servers the suite ran against, in the test output (docs/deployment.md lists the proven ones).</summary>
public sealed class ServerVersionTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("nginx", "nginx-light", "-v", "nginx version: nginx/")]
    [InlineData("lighttpd", "lighttpd", "-v", "lighttpd/")]
    [InlineData("apache2", "apache2", "-v", "Server version: Apache/")]
    public async Task Version(string tool, string package, string flag, string prefix)
    {
        var version = (await WebServerProcess.RunAsync(InstalledTools.Require(tool, package), flag)).Trim();
        output.WriteLine(version);
        Assert.StartsWith(prefix, version, StringComparison.Ordinal);
    }
}
