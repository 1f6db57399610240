using System.Text;
using System.Text.Json;
using FastCgi.Testing;
using Xunit;

namespace FastCgi.IntegrationTests.Packages;

/// <summary>
/// A user's application built from the FastCgi package, not from this repository: the README's "Hello, world" in a
/// fresh project with a PackageReference, published in each of the three forms docs/deployment.md names, with no
/// warning (a trim or AOT analysis warning would mean the library is not trim-safe), with the library's runtime
/// settings (build/FastCgi.props, imported by NuGet from the package), and answering a FastCGI request on fd 0.
/// </summary>
[Collection(nameof(PackageConsumers))]
public sealed class PublishedHelloTests(PackageFeed feed)
{
    public static TheoryData<string, string[]> Forms => new()
    {
        { "jit", [] },
        { "trimmed", ["-r", "linux-x64", "--self-contained", "-p:PublishTrimmed=true"] },
        { "aot", ["-r", "linux-x64", "-p:PublishAot=true"] },
    };

    [Theory]
    [MemberData(nameof(Forms))]
    public async Task The_readme_hello_published_from_the_package_answers_a_request(string form, string[] publishArgs)
    {
        var project = feed.CreateApplication("Hello" + form, $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="FastCgi" Version="{feed.Version}" />
              </ItemGroup>
            </Project>
            """, """
            using FastCgi;

            new FastCgiServer(() => new Hello()).Run();

            sealed class Hello : Handler
            {
                public override void Process(Request request)
                {
                    request.SetHeader("Content-Type", "text/plain");
                    request.Write("Hello, world!\n");
                }
            }
            """);

        var (output, publish) = await feed.PublishAsync(project, form, publishArgs);

        publish.AssertSucceeded();
        Assert.Empty(publish.Warnings);
        // Restored from the packed folder into the applications' own package folder, not found elsewhere.
        Assert.True(Directory.Exists(Path.Combine(feed.RestoredPackages, "fastcgi", feed.Version)), "FastCgi was not restored from the packed folder.");
        var executable = Path.Combine(output, "Hello" + form);
        if (form == "aot")
        {
            // No runtimeconfig.json: the gen0 budget is compiled in (IlcArg --runtimeopt, a name and a value, each
            // ending in NUL) and read by the runtime as it starts.
            Assert.True(
                File.ReadAllBytes(executable).AsSpan().IndexOf("GCgen0size\0400000\0"u8) >= 0,
                "The executable has no GCgen0size of 400000: the package's build/FastCgi.props did not reach the application.");
        }
        else
        {
            AssertLibrarysRuntimeSettings(executable + ".runtimeconfig.json");
        }

        using var app = await SpawnedApplication.StartAsync(executable);
        var response = await app.RequestAsync(CgiVariables.Environ("/hello"));

        Assert.Equal("Content-Type: text/plain\r\n\r\nHello, world!\n", response.Text);
        Assert.Equal("", response.Stderr);
        Assert.Equal(0, response.ExitCode);
    }

    /// <summary>The settings of build/FastCgi.props, as RuntimeSettingsTests checks them for the echo sample.</summary>
    internal static void AssertLibrarysRuntimeSettings(string runtimeConfig)
    {
        using var config = JsonDocument.Parse(File.ReadAllText(runtimeConfig, Encoding.UTF8));
        var properties = config.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");

        Assert.Equal("0x400000", Setting(properties, "System.GC.Gen0MaxBudget").GetString());
        Assert.Equal(0, Setting(properties, "System.Threading.ThreadPool.UnfairSemaphoreSpinLimit").GetInt32());
        Assert.False(Setting(properties, "System.Runtime.TieredPGO").GetBoolean());
        Assert.Equal(20, Setting(properties, "System.Runtime.TieredCompilation.CallCountingDelayMs").GetInt32());
    }

    private static JsonElement Setting(JsonElement properties, string name)
    {
        Assert.True(properties.TryGetProperty(name, out var value), $"runtimeconfig.json has no {name}: the package's build/FastCgi.props did not reach the application.\n{properties}");
        return value;
    }
}
