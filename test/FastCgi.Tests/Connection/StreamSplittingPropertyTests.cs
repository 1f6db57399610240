using System.Globalization;
using FastCgi.Fuzz.Harnesses;
using Xunit;

namespace FastCgi.Tests.Connection;

/// <summary>
/// The property behind every record split a web server may choose: at threading level 2, random requests (PARAMS
/// of 0 to 300 KiB with names and values of every length class, bodies, Filter data) encoded by the test's own
/// encoder, cut into records at random offsets with random padding, several requests interleaved and the bytes cut
/// into random writes, reach their handlers exactly as sent (<see cref="SplitConnection"/>). Each case number starts
/// its own <see cref="Random"/> and is one connection of a few rounds; a failure names its case, and
/// <c>FASTCGI_PROPERTY_CASE=N</c> replays case N alone.
/// </summary>
public sealed class StreamSplittingPropertyTests
{
    private const int MinimumRequests = 10_000;

    private static readonly TimeSpan RoundTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Handlers_see_exactly_what_was_sent_however_the_streams_are_cut()
    {
        if (Environment.GetEnvironmentVariable("FASTCGI_PROPERTY_CASE") is { Length: > 0 } replay)
        {
            await RunCaseAsync(int.Parse(replay, CultureInfo.InvariantCulture));
            return;
        }

        var requests = 0;
        for (var number = 1; requests < MinimumRequests; number++)
        {
            requests += await RunCaseAsync(number);
        }
    }

    /// <summary>One connection, one to four rounds of one to five multiplexed requests; returns how many were sent.</summary>
    private static async Task<int> RunCaseAsync(int number)
    {
        var choices = new RandomSplitChoices(number);
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
            Assert.Fail($"Case {number} failed (replay it with FASTCGI_PROPERTY_CASE={number}): {exception}");
        }

        return requests;
    }
}
