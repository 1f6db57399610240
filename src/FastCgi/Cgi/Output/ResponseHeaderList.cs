using System.Collections;

namespace FastCgi.Cgi.Output;

/// <summary>
/// The response headers in the order they will be sent, names compared case-insensitively (RFC 9110 section 5.1).
/// Plain loops rather than FindIndex/RemoveAll with a lambda: a capturing lambda allocates on every call. The
/// headers are in an array of its own rather than a <see cref="List{T}"/>: one object less per request.
/// </summary>
internal sealed class ResponseHeaderList : IReadOnlyList<KeyValuePair<string, string>>
{
    private KeyValuePair<string, string>[] _items = new KeyValuePair<string, string>[4];
    private int _count;

    // Changed by every change, so that changing the headers while enumerating them fails as it does for a List.
    private int _version;

    /// <inheritdoc />
    public int Count => _count;

    /// <inheritdoc />
    public KeyValuePair<string, string> this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)_count, nameof(index));
            return _items[index];
        }
    }

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator()
    {
        var version = _version;
        for (var i = 0; i < _count; i++)
        {
            yield return _items[i];
            if (version != _version)
            {
                throw new InvalidOperationException("The response headers changed during the enumeration.");
            }
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>
    /// The status code from the <c>Status</c> header, or 200 when there is none (the web server's default,
    /// RFC 3875 section 6.3.3).
    /// </summary>
    public int StatusCode
    {
        get
        {
            var status = Get("Status");
            return status is { Length: >= 3 } && int.TryParse(status.AsSpan(0, 3), out var code) ? code : 200;
        }
    }

    /// <summary>The <paramref name="index"/>th value of header <paramref name="name"/>, or <c>null</c>.</summary>
    public string? Get(string name, int index = 0)
    {
        for (var i = 0; i < _count; i++)
        {
            if (IsName(_items[i], name) && index-- == 0)
            {
                return _items[i].Value;
            }
        }

        return null;
    }

    /// <summary>Replaces every value of <paramref name="name"/> with one, where the first was.</summary>
    public void Set(string name, string value)
    {
        var index = IndexOf(name);
        if (index < 0)
        {
            Add(name, value);
            return;
        }

        Replace(index, new(name, value));
        RemoveAll(name, index + 1);
    }

    /// <summary>Adds a value after the existing ones.</summary>
    public void Add(string name, string value) => Insert(_count, new(name, value));

    /// <summary>Removes every value of <paramref name="name"/>; returns how many there were.</summary>
    public int Remove(string name) => RemoveAll(name, 0);

    /// <summary>Removes every header.</summary>
    public void Clear()
    {
        Array.Clear(_items, 0, _count);
        _count = 0;
        _version++;
    }

    /// <summary>Removes every header but <paramref name="name"/>.</summary>
    public void RemoveAllBut(string name)
    {
        for (var i = _count - 1; i >= 0; i--)
        {
            if (!IsName(_items[i], name))
            {
                RemoveAt(i);
            }
        }
    }

    /// <summary>Whether every header is one of <paramref name="first"/> and <paramref name="second"/>.</summary>
    public bool HasOnly(string first, string second)
    {
        for (var i = 0; i < _count; i++)
        {
            if (!IsName(_items[i], first) && !IsName(_items[i], second))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Adds <paramref name="value"/> to the comma-separated header <paramref name="name"/> unless it is already one of
    /// its values (compared case-insensitively), creating the header if needed.
    /// </summary>
    public void AppendValue(string name, string value)
    {
        var index = IndexOf(name);
        if (index < 0)
        {
            Add(name, value);
            return;
        }

        var existing = _items[index].Value;
        foreach (var item in existing.Split(','))
        {
            if (string.Equals(item.Trim(), value, StringComparison.OrdinalIgnoreCase))
            {
                return;
            }
        }

        Replace(index, new(_items[index].Key, existing.Length == 0 ? value : existing + ", " + value));
    }

    /// <summary>Replaces the first value of <paramref name="name"/> if it is <paramref name="expected"/>.</summary>
    public void ReplaceIf(string name, string expected, string value)
    {
        var index = IndexOf(name);
        if (index >= 0 && _items[index].Value == expected)
        {
            Replace(index, new(_items[index].Key, value));
        }
    }

    /// <summary>Moves the first <paramref name="name"/> header to the front.</summary>
    public void MoveToFront(string name)
    {
        var index = IndexOf(name);
        if (index > 0)
        {
            var header = _items[index];
            RemoveAt(index);
            Insert(0, header);
        }
    }

    private static bool IsName(KeyValuePair<string, string> header, string name) =>
        string.Equals(header.Key, name, StringComparison.OrdinalIgnoreCase);

    private int IndexOf(string name)
    {
        for (var i = 0; i < _count; i++)
        {
            if (IsName(_items[i], name))
            {
                return i;
            }
        }

        return -1;
    }

    private int RemoveAll(string name, int from)
    {
        var removed = 0;
        for (var i = _count - 1; i >= from; i--)
        {
            if (IsName(_items[i], name))
            {
                RemoveAt(i);
                removed++;
            }
        }

        return removed;
    }

    private void Insert(int index, KeyValuePair<string, string> header)
    {
        if (_count == _items.Length)
        {
            Array.Resize(ref _items, _count * 2);
        }

        Array.Copy(_items, index, _items, index + 1, _count - index);
        _items[index] = header;
        _count++;
        _version++;
    }

    private void RemoveAt(int index)
    {
        _count--;
        Array.Copy(_items, index + 1, _items, index, _count - index);
        _items[_count] = default;
        _version++;
    }

    private void Replace(int index, KeyValuePair<string, string> header)
    {
        _items[index] = header;
        _version++;
    }
}
