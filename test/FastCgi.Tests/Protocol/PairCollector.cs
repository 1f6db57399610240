using FastCgi.Protocol;

namespace FastCgi.Tests.Protocol;

/// <summary>A name-value handler that keeps copies of the pairs it is given.</summary>
internal struct PairCollector : INameValueHandler
{
    public PairCollector()
    {
    }

    public List<(byte[] Name, byte[] Value)> Pairs { get; } = [];

    public readonly void OnPair(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        Pairs.Add((name.ToArray(), value.ToArray()));
    }
}
