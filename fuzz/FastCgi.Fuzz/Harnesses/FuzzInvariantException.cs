namespace FastCgi.Fuzz.Harnesses;

/// <summary>A harness found the code under test in a state it must never reach: always a finding.</summary>
internal sealed class FuzzInvariantException : Exception
{
    public FuzzInvariantException()
    {
    }

    public FuzzInvariantException(string message) : base(message)
    {
    }

    public FuzzInvariantException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>Throws when <paramref name="condition"/> does not hold.</summary>
    public static void Check(bool condition, string message)
    {
        if (!condition)
        {
            throw new FuzzInvariantException(message);
        }
    }
}
