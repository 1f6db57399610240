using FastCgi.Fuzz.Harnesses;
using FastCgi.Testing;
using Xunit;

namespace FastCgi.Tests.Fuzz;

/// <summary>
/// Replays every starting input in fuzz/corpus/TARGET/ and every fuzz finding in fuzz/regressions/TARGET/ through the
/// harness that fuzzes TARGET: each must end without an exception the harness does not expect.
/// </summary>
[Collection(nameof(FuzzCorpusSerial))]
public class FuzzCorpusTests
{
    public static TheoryData<string, string> Inputs()
    {
        var data = new TheoryData<string, string>();
        foreach (var kind in new[] { "corpus", "regressions" })
        {
            var directory = Path.Combine(RepositoryPaths.Root, "fuzz", kind);
            if (!Directory.Exists(directory))
            {
                continue;
            }

            foreach (var file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                var relative = Path.GetRelativePath(RepositoryPaths.Root, file).Replace('\\', '/');
                if (Path.GetFileName(file) != "README.md")
                {
                    data.Add(Path.GetFileName(Path.GetDirectoryName(file)!), relative);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Input_passes_its_harness(string target, string path)
    {
        Assert.True(FuzzTargets.IsTarget(target), $"{path} is not under a fuzz target's directory");

        FuzzTargets.Run(target, File.ReadAllBytes(Path.Combine(RepositoryPaths.Root, path)));
    }

    [Fact]
    public void Every_target_has_a_starting_corpus()
    {
        foreach (var target in FuzzTargets.Names)
        {
            Assert.NotEmpty(Directory.EnumerateFiles(Path.Combine(RepositoryPaths.Root, "fuzz", "corpus", target)));
        }
    }
}

/// <summary>
/// The multipart harness compares the temporary directory before and after each form: nothing else that creates
/// upload files may run meanwhile.
/// </summary>
[CollectionDefinition(nameof(FuzzCorpusSerial), DisableParallelization = true)]
public sealed class FuzzCorpusSerial;
