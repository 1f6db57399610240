using System.IO.Pipelines;

namespace FastCgi.Tests.Support;

/// <summary>Two pipe ends as one transport, for a connection driven without a host.</summary>
internal sealed record DuplexPipe(PipeReader Input, PipeWriter Output) : IDuplexPipe;
