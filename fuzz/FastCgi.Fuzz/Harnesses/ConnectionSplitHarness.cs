using FastCgi.Server;
namespace FastCgi.Fuzz.Harnesses;

/// <summary>
/// A whole connection fed requests whose PARAMS, STDIN and DATA streams are cut into records, padded, interleaved and
/// cut into writes where the input says (<see cref="SplitRequests"/>); the input also chooses the requests (their
/// pairs' length classes, bodies, data). The handlers must see exactly what was sent and every request must end
/// with END_REQUEST. Input: every byte is a choice (<see cref="ByteSplitChoices"/>); the first picks threading
/// level 2 (even) or 1 (odd), the second the number of rounds on the connection. Nothing may throw.
/// </summary>
internal static class ConnectionSplitHarness
{
    /// <summary>Under AFL's 5 s limit per input, so a stuck request is reported as what it is.</summary>
    private static readonly TimeSpan RoundTimeout = TimeSpan.FromSeconds(4);

    public static void Run(byte[] input) => RunAsync(new ByteSplitChoices(input)).GetAwaiter().GetResult();

    private static async Task RunAsync(ByteSplitChoices choices)
    {
        var multiplexed = choices.Next(2) == 0;
        var connection = new SplitConnection(multiplexed ? ThreadingLevel.Multiplexed : ThreadingLevel.PerConnection);
        await using (connection.ConfigureAwait(false))
        {
            for (var rounds = 1 + choices.Next(3); rounds > 0; rounds--)
            {
                await connection.RoundAsync(choices, multiplexed ? 4 : 1, allowFilter: true, RoundTimeout).ConfigureAwait(false);
            }
        }
    }
}
