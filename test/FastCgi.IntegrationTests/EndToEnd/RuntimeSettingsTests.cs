using System.Text.Json;
using FastCgi.IntegrationTests.Support;
using Xunit;

namespace FastCgi.IntegrationTests.EndToEnd;

/// <summary>
/// The runtime settings the library ships (build/FastCgi.props) reach an application that references it: the echo
/// sample's runtimeconfig.json, which the runtime reads as it starts.
/// </summary>
public sealed class RuntimeSettingsTests
{
    [Fact]
    public void The_echo_sample_runs_with_the_librarys_runtime_settings()
    {
        var path = Path.ChangeExtension(EchoApp.Executable, null) + ".runtimeconfig.json";
        using var config = JsonDocument.Parse(File.ReadAllText(path));
        var properties = config.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");

        Assert.Equal("0x400000", properties.GetProperty("System.GC.Gen0MaxBudget").GetString());
        Assert.Equal(0, properties.GetProperty("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit").GetInt32());
        Assert.False(properties.GetProperty("System.Runtime.TieredPGO").GetBoolean());
        Assert.Equal(20, properties.GetProperty("System.Runtime.TieredCompilation.CallCountingDelayMs").GetInt32());
    }
}
