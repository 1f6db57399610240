namespace FastCgi.Protocol;

/// <summary>
/// Receives the pairs <see cref="NameValueReader"/> decodes. Implemented by structs (or ref structs), so the
/// callback is neither virtual nor boxed.
/// </summary>
internal interface INameValueHandler
{
    /// <summary>One pair; both spans point into the parsed data and are only valid during the call.</summary>
    void OnPair(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value);
}
