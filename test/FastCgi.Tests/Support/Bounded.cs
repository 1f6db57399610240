namespace FastCgi.Tests.Support;

/// <summary>
/// Every wait of the in-memory tier has a bound: a test whose signal never comes fails, naming what it waited for,
/// instead of holding the test run forever.
/// </summary>
internal static class Bounded
{
    /// <summary>The bound: only a broken test or a broken server waits that long in memory.</summary>
    public static TimeSpan Limit { get; } = TimeSpan.FromSeconds(10);

    /// <summary>Awaits <paramref name="task"/>, or fails after <see cref="Limit"/> naming <paramref name="what"/>.</summary>
    public static async Task Within(this Task task, string what)
    {
        try
        {
            await task.WaitAsync(Limit);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Waited {Limit.TotalSeconds} s for {what}.");
        }
    }

    /// <summary>Awaits <paramref name="task"/>, or fails after <see cref="Limit"/> naming <paramref name="what"/>.</summary>
    public static async Task<T> Within<T>(this Task<T> task, string what)
    {
        try
        {
            return await task.WaitAsync(Limit);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Waited {Limit.TotalSeconds} s for {what}.");
        }
    }
}
