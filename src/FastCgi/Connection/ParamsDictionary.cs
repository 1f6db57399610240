using System.Buffers;
using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace FastCgi.Connection;

/// <summary>
/// A request's CGI meta-variables, kept as the PARAMS bytes the web server sent plus an index of where each pair
/// is; a name's value becomes a string only when asked for. A handler typically reads a handful of the ~30
/// variables nginx sends, so decoding all of them up front would be most of a small request's allocation.
/// Valid until the request ends (the bytes are pooled); duplicate names resolve to the last one, as a
/// dictionary built in order would.
/// </summary>
internal sealed class ParamsDictionary : IReadOnlyDictionary<string, string>, IDisposable
{
    private byte[] _data;
    private Entry[] _entries;
    private int _count;
    private int _length;

    private ParamsDictionary(byte[] data, int length, Entry[] entries, int count)
    {
        _data = data;
        _length = length;
        _entries = entries;
        _count = count;
    }

    /// <summary>
    /// Indexes <paramref name="length"/> bytes of PARAMS in <paramref name="data"/>, a pooled buffer the dictionary
    /// now owns. Enforces <paramref name="maxCount"/> pairs and <paramref name="maxLength"/> bytes per name or value.
    /// </summary>
    /// <exception cref="ProtocolException">The pairs are malformed or over a limit.</exception>
    public static ParamsDictionary Create(byte[] data, int length, int maxCount, int maxLength, ushort requestId)
    {
        var entries = ArrayPool<Entry>.Shared.Rent(32);
        var count = 0;
        try
        {
            // The pairs are read in place, as offsets into data: the index is all that is built.
            var pairs = data.AsSpan(0, length);
            var position = 0;
            while (position < pairs.Length)
            {
                var nameStart = NameValueReader.ReadPair(pairs, ref position, out var nameLength, out var valueLength);
                var longest = Math.Max(nameLength, valueLength);
                if (longest > maxLength)
                {
                    ProtocolException.Throw(ProtocolRejectionReason.ParamTooLong, longest, maxLength);
                }

                if (count >= maxCount)
                {
                    ProtocolException.Throw(ProtocolRejectionReason.TooManyParams, requestId, maxCount);
                }

                if (count == entries.Length)
                {
                    var bigger = ArrayPool<Entry>.Shared.Rent(count * 2);
                    entries.AsSpan(0, count).CopyTo(bigger);
                    ArrayPool<Entry>.Shared.Return(entries);
                    entries = bigger;
                }

                entries[count++] = new Entry(nameStart, nameLength, valueLength);
            }
        }
        catch
        {
            ArrayPool<Entry>.Shared.Return(entries);
            throw;
        }

        return new ParamsDictionary(data, length, entries, count);
    }

    /// <summary>The PARAMS bytes the pairs were read from.</summary>
    public ReadOnlyMemory<byte> RawBytes
    {
        get
        {
            ObjectDisposedException.ThrowIf(_count < 0, this);
            return _data.AsMemory(0, _length);
        }
    }

    /// <inheritdoc />
    public string this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"'{key}' is not a request parameter.");

    /// <inheritdoc />
    public IEnumerable<string> Keys => this.Select(pair => pair.Key);

    /// <inheritdoc />
    public IEnumerable<string> Values => this.Select(pair => pair.Value);

    /// <inheritdoc />
    public int Count => UniqueIndexes().Count();

    /// <inheritdoc />
    public bool ContainsKey(string key) => Find(key) >= 0;

    /// <inheritdoc />
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out string value)
    {
        var index = Find(key);
        if (index < 0)
        {
            value = null;
            return false;
        }

        var entry = _entries[index];
        value = Encoding.UTF8.GetString(_data, entry.ValueStart, entry.ValueLength);
        return true;
    }

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator()
    {
        foreach (var index in UniqueIndexes())
        {
            var entry = _entries[index];
            yield return new(
                Encoding.UTF8.GetString(_data, entry.NameStart, entry.NameLength),
                Encoding.UTF8.GetString(_data, entry.ValueStart, entry.ValueLength));
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The raw bytes of the value of <paramref name="name"/> (ASCII), without a string made.</summary>
    public bool TryGetRaw(ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        ObjectDisposedException.ThrowIf(_count < 0, this);
        for (var i = _count - 1; i >= 0; i--)
        {
            var entry = _entries[i];
            if (_data.AsSpan(entry.NameStart, entry.NameLength).SequenceEqual(name))
            {
                value = _data.AsSpan(entry.ValueStart, entry.ValueLength);
                return true;
            }
        }

        value = default;
        return false;
    }

    /// <summary>
    /// The request's URL path as the client sent it, raw (not decoded): REQUEST_URI up to its query string, or empty
    /// when there is none (nginx, Apache and lighttpd send it). <paramref name="script"/> (SCRIPT_NAME) followed by
    /// <paramref name="pathInfo"/> (PATH_INFO) is the path the web server routed the request to, decoded, after its
    /// rewrites (RFC 3875 4.1.13, 4.1.5); both empty when absent.
    /// </summary>
    public ReadOnlySpan<byte> UrlPath(out ReadOnlySpan<byte> script, out ReadOnlySpan<byte> pathInfo)
    {
        TryGetRaw("SCRIPT_NAME"u8, out script);
        TryGetRaw("PATH_INFO"u8, out pathInfo);
        if (TryGetRaw("REQUEST_URI"u8, out var uri))
        {
            var query = uri.IndexOf((byte)'?');
            return query >= 0 ? uri[..query] : uri;
        }

        return default;
    }

    /// <summary>Returns the bytes and the index to the pool; later reads throw.</summary>
    public void Dispose()
    {
        if (_count < 0)
        {
            return;
        }

        ArrayPool<byte>.Shared.Return(_data);
        ArrayPool<Entry>.Shared.Return(_entries);
        _data = [];
        _entries = [];
        _count = -1;
        _length = 0;
    }

    private int Find(string key)
    {
        ObjectDisposedException.ThrowIf(_count < 0, this);

        // An ASCII key (every CGI name) is its own UTF-8: its chars are compared with the bytes, nothing is encoded.
        if (Ascii.IsValid(key))
        {
            for (var i = _count - 1; i >= 0; i--)
            {
                var entry = _entries[i];
                if (entry.NameLength == key.Length && Ascii.Equals(_data.AsSpan(entry.NameStart, entry.NameLength), key))
                {
                    return i;
                }
            }

            return -1;
        }

        return FindEncoded(key);
    }

    private int FindEncoded(string key)
    {
        var max = Encoding.UTF8.GetMaxByteCount(key.Length);
        byte[]? rented = null;
        var name = max <= 256 ? stackalloc byte[max] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            name = name[..Encoding.UTF8.GetBytes(key, name)];
            for (var i = _count - 1; i >= 0; i--)
            {
                var entry = _entries[i];
                if (entry.NameLength == name.Length && _data.AsSpan(entry.NameStart, entry.NameLength).SequenceEqual(name))
                {
                    return i;
                }
            }

            return -1;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>The index of each name's last occurrence, in first-seen order.</summary>
    private IEnumerable<int> UniqueIndexes()
    {
        ObjectDisposedException.ThrowIf(_count < 0, this);
        for (var i = 0; i < _count; i++)
        {
            var name = _data.AsSpan(_entries[i].NameStart, _entries[i].NameLength);
            var later = false;
            for (var j = i + 1; j < _count && !later; j++)
            {
                later = _data.AsSpan(_entries[j].NameStart, _entries[j].NameLength).SequenceEqual(name);
            }

            if (!later)
            {
                yield return i;
            }
        }
    }

    // The value follows its name (spec 3.4), so its start is not stored.
    private readonly struct Entry(int nameStart, int nameLength, int valueLength)
    {
        public readonly int NameStart = nameStart;
        public readonly int NameLength = nameLength;
        public readonly int ValueLength = valueLength;

        public int ValueStart => NameStart + NameLength;
    }
}
