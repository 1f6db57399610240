namespace FastCgi.Fuzz.Harnesses;

/// <summary>
/// Where <see cref="SplitRequests"/> gets each choice (sizes, cuts, paddings, order): a <see cref="Random"/> started from a case
/// number in the property test, the fuzzer's bytes under AFL. Choice 0 is always the cheap one (nothing, or whole records), so an
/// input that runs out ends small.
/// </summary>
internal interface ISplitChoices
{
    /// <summary>A number from 0 to <paramref name="count"/> - 1.</summary>
    int Next(int count);
}

/// <summary>Choices from <see cref="Random"/>: one seed, one sequence of requests.</summary>
internal sealed class RandomSplitChoices(int seed) : ISplitChoices
{
    private readonly Random _random = new(seed);

    public int Next(int count) => _random.Next(count);
}

/// <summary>Choices read from the fuzzer's input, as few bytes as the range needs, big-endian; 0 once it ran out.</summary>
internal sealed class ByteSplitChoices(byte[] input) : ISplitChoices
{
    private int _at;

    public int Next(int count)
    {
        if (count <= 1)
        {
            return 0;
        }

        var bytes = count <= 1 << 8 ? 1 : count <= 1 << 16 ? 2 : 3;
        var value = 0;
        for (var i = 0; i < bytes; i++)
        {
            value = (value << 8) | (_at < input.Length ? input[_at++] : 0);
        }

        return value % count;
    }
}
