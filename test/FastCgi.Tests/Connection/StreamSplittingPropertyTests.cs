using System.Globalization;
using FastCgi.Fuzz.Harnesses;
using Xunit;
using FastCgi.Server;

namespace FastCgi.Tests.Connection;

/// <summary>
/// The property behind every record split a web server may choose: at threading level 2, random requests (PARAMS
/// of 0 to 300 KiB with names and values of every length class, bodies, Filter data) encoded by the test's own
/// encoder, cut into records at random offsets with random padding, several requests interleaved and the bytes cut
/// into random writes, reach their handlers exactly as sent (<see cref="SplitConnection"/>). Each case is one
/// connection of a few rounds, drawn from its own seed; every run starts at a new random seed, so each run tries new
/// cases. A failure prints its seed, and <c>FASTCGI_PROPERTY_SEED=N</c> replays that case alone.
/// </summary>
public sealed class StreamSplittingPropertyTests
{
    private const int MinimumRequests = 10_000;

    private static readonly TimeSpan RoundTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Handlers_see_exactly_what_was_sent_however_the_streams_are_cut()
    {
        if (Environment.GetEnvironmentVariable("FASTCGI_PROPERTY_SEED") is { Length: > 0 } replay)
        {
            await RunCaseAsync(int.Parse(replay, CultureInfo.InvariantCulture));
            return;
        }

        var first = Random.Shared.Next(int.MaxValue / 2);
        TestContext.Current.TestOutputHelper?.WriteLine($"First seed {first}");
        var requests = 0;
        for (var seed = first; requests < MinimumRequests; seed++)
        {
            requests += await RunCaseAsync(seed);
        }
    }

    /// <summary>One connection, one to four rounds of one to five multiplexed requests; returns how many were sent.</summary>
    private static async Task<int> RunCaseAsync(int seed)
    {
        var choices = new RandomSplitChoices(seed);
        var requests = 0;
        try
        {
            await using var connection = new SplitConnection(ThreadingLevel.Multiplexed);
            for (var rounds = 1 + choices.Next(4); rounds > 0; rounds--)
            {
                requests += await connection.RoundAsync(choices, maxRequests: 5, allowFilter: true, RoundTimeout);
            }
        }
        catch (Exception exception) when (exception is FuzzInvariantException or IOException or OperationCanceledException or TimeoutException or InvalidOperationException)
        {
            Assert.Fail($"The case with seed {seed} failed (replay it with FASTCGI_PROPERTY_SEED={seed}): {exception}");
        }

        return requests;
    }
}
