namespace FastCgi.Validation;

/// <summary>
/// The checks every layer's options make where a value is set: each returns the value, so that an option's setter is
/// one line (<c>init =&gt; field = OptionValidation.Positive(value, nameof(MaxCookies));</c>), and refuses a bad one
/// with an <see cref="ArgumentOutOfRangeException"/> (an <see cref="ArgumentNullException"/> for null) that names the option.
/// </summary>
internal static class OptionValidation
{
    /// <summary>Greater than zero (0, 0 bytes, <see cref="TimeSpan.Zero"/>).</summary>
    public static T Positive<T>(T value, string name)
        where T : struct, IComparable<T>
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(value, default, name);
        return value;
    }

    /// <summary>Zero or more.</summary>
    public static T NotNegative<T>(T value, string name)
        where T : struct, IComparable<T>
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(value, default, name);
        return value;
    }

    /// <summary>From <paramref name="min"/> to <paramref name="max"/>, both included.</summary>
    public static T InRange<T>(T value, T min, T max, string name)
        where T : struct, IComparable<T>
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(value, min, name);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(value, max, name);
        return value;
    }

    /// <summary>A value the enumeration defines; <paramref name="message"/> says which those are.</summary>
    public static T Defined<T>(T value, string name, string message)
        where T : struct, Enum =>
        Enum.IsDefined(value) ? value : throw new ArgumentOutOfRangeException(name, value, message);

    /// <summary>Not null.</summary>
    public static T NotNull<T>(T? value, string name)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(value, name);
        return value;
    }
}
