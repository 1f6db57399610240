using System.Buffers;
using System.Text;

namespace FastCgi.Cgi.Forms;

/// <summary>
/// Collects the body of one multipart part: a text field in memory (bounded by
/// <see cref="RequestLimits.MaxFieldValueBytes"/>), a whole part in memory up to
/// <see cref="RequestLimits.PartMemoryThreshold"/> and in a temporary file past it, so an upload of any size costs
/// a fixed amount of memory. One sink serves every part of a body, keeping its pooled buffer.
/// </summary>
internal sealed class PartBodySink(RequestLimits limits) : IDisposable
{
    private const int FileBufferSize = 64 * 1024;

    private byte[] _memory = [];
    private int _memoryLength;
    private long _length;
    private bool _asPart;
    private FileStream? _file;
    private string? _path;

    /// <summary>Starts a part: a whole part (<paramref name="asPart"/>) may spill to a file, a text field may not.</summary>
    public void Begin(bool asPart)
    {
        _asPart = asPart;
        _memoryLength = 0;
        _length = 0;
    }

    /// <summary>Appends body bytes.</summary>
    /// <exception cref="RequestRejectedException">413 when a text field grows past its limit.</exception>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (data.IsEmpty)
        {
            return default;
        }

        _length += data.Length;
        if (_file is not null)
        {
            return _file.WriteAsync(data, cancellationToken);
        }

        if (_length <= (_asPart ? limits.PartMemoryThreshold : limits.MaxFieldValueBytes))
        {
            Append(data.Span);
            return default;
        }

        if (!_asPart)
        {
            RequestRejection.Throw(RequestRejectionReason.FormValueTooLong, limits.MaxFieldValueBytes);
        }

        return SpillAsync(data, cancellationToken);
    }

    /// <summary>Ends a text field: its bytes decoded with <paramref name="encoding"/>.</summary>
    public string CompleteText(Encoding encoding) => encoding.GetString(_memory, 0, _memoryLength);

    /// <summary>Ends a whole part; its temporary file, if any, now belongs to the returned part.</summary>
    public async ValueTask<FormPart> CompletePartAsync(string name, string? fileName, IReadOnlyList<KeyValuePair<string, string>> headers)
    {
        if (_file is null)
        {
            return new FormPart(name, fileName, headers, _memory.AsSpan(0, _memoryLength).ToArray(), null, _length);
        }

        await _file.DisposeAsync().ConfigureAwait(false);
        _file = null;
        var path = _path;
        _path = null;
        return new FormPart(name, fileName, headers, null, path, _length);
    }

    /// <summary>Returns the buffer and deletes a temporary file no part took over (the request failed midway).</summary>
    public void Dispose()
    {
        if (_memory.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_memory);
            _memory = [];
        }

        _file?.Dispose();
        _file = null;
        if (_path is not null)
        {
            try
            {
                File.Delete(_path);
            }
            catch (IOException)
            {
                // Cleanup runs while another exception is on its way out; that one is what matters.
            }

            _path = null;
        }
    }

    private void Append(ReadOnlySpan<byte> data)
    {
        var needed = _memoryLength + data.Length;
        if (needed > _memory.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, Math.Max(_memory.Length * 2, 4096)));
            _memory.AsSpan(0, _memoryLength).CopyTo(bigger);
            if (_memory.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(_memory);
            }

            _memory = bigger;
        }

        data.CopyTo(_memory.AsSpan(_memoryLength));
        _memoryLength = needed;
    }

    private async ValueTask SpillAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            BufferSize = FileBufferSize,
            Options = FileOptions.Asynchronous,
        };
        if (!OperatingSystem.IsWindows())
        {
            // Uploads may be private: readable by this user only, as mkstemp would create them.
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        // A random name with CreateNew cannot be raced by another process creating the same path first.
        var path = Path.Combine(Path.GetTempPath(), "fastcgi-" + Path.GetRandomFileName());
        _file = new FileStream(path, options);
        _path = path;
        await _file.WriteAsync(_memory.AsMemory(0, _memoryLength), cancellationToken).ConfigureAwait(false);
        _memoryLength = 0;
        await _file.WriteAsync(data, cancellationToken).ConfigureAwait(false);
    }
}
