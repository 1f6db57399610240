using Xunit;

namespace FastCgi.IntegrationTests.Support;

/// <summary>
/// Tests that measure a process's threads or timing run alone, so other tests cannot skew them.
/// </summary>
[CollectionDefinition(nameof(RunsAlone), DisableParallelization = true)]
public sealed class RunsAlone;
