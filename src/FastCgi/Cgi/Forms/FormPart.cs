namespace FastCgi.Cgi;

/// <summary>
/// One part of a <c>multipart/form-data</c> body: its headers, its file name, and its body, which is held in
/// memory when small and in a temporary file otherwise (<see cref="RequestLimits.PartMemoryThreshold"/>).
/// The temporary file is deleted when the request ends.
/// </summary>
public sealed class FormPart : IDisposable
{
    private readonly byte[]? _memory;
    private readonly string? _path;

    internal FormPart(string name, string? fileName, IReadOnlyList<KeyValuePair<string, string>> headers, byte[]? memory, string? path, long length)
    {
        Name = name;
        FileName = fileName;
        Headers = headers;
        _memory = memory;
        _path = path;
        Length = length;
    }

    /// <summary>The field name from <c>Content-Disposition</c>.</summary>
    public string Name { get; }

    /// <summary>The <c>filename</c> from <c>Content-Disposition</c>, or <c>null</c> when the part is not a file.</summary>
    public string? FileName { get; }

    /// <summary>The part's <c>Content-Type</c>, or <c>text/plain</c> when it has none (RFC 7578 section 4.4).</summary>
    public string ContentType => GetHeader("Content-Type") ?? "text/plain";

    /// <summary>The part's headers, in order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; }

    /// <summary>The body's length in bytes.</summary>
    public long Length { get; }

    /// <summary>The first header of that name (case-insensitive), or <c>null</c>.</summary>
    public string? GetHeader(string name)
    {
        foreach (var header in Headers)
        {
            if (string.Equals(header.Key, name, StringComparison.OrdinalIgnoreCase))
            {
                return header.Value;
            }
        }

        return null;
    }

    /// <summary>Opens the body for reading. Each call gives a new stream from the start.</summary>
    public Stream OpenRead() => _path is null
        ? new MemoryStream(_memory ?? [], writable: false)
        : new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.SequentialScan);

    /// <summary>Deletes the temporary file, if any.</summary>
    public void Dispose()
    {
        if (_path is not null)
        {
            try
            {
                File.Delete(_path);
            }
            catch (IOException)
            {
                // Best effort: a file still open by the application is left to the OS temp cleaner.
            }
        }
    }
}
