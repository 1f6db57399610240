using Xunit;

namespace FastCgi.Tests.Cgi;

/// <summary>
/// Tests that measure process-wide allocations, count temporary files or measure a server's wall time run alone, so
/// other tests cannot skew them.
/// </summary>
[CollectionDefinition(nameof(RunsAlone), DisableParallelization = true)]
public sealed class RunsAlone;
