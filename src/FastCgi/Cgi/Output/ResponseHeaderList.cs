namespace FastCgi.Cgi.Output;

/// <summary>
/// The response headers in the order they will be sent, names compared case-insensitively (RFC 9110 section 5.1).
/// Plain loops rather than FindIndex/RemoveAll with a lambda: a capturing lambda allocates on every call.
/// </summary>
internal sealed class ResponseHeaderList
{
    private readonly List<KeyValuePair<string, string>> _items = new(4);

    /// <summary>The headers, in order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Items => _items;

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
        foreach (var header in _items)
        {
            if (IsName(header, name) && index-- == 0)
            {
                return header.Value;
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
            _items.Add(new(name, value));
            return;
        }

        _items[index] = new(name, value);
        RemoveAll(name, index + 1);
    }

    /// <summary>Adds a value after the existing ones.</summary>
    public void Add(string name, string value) => _items.Add(new(name, value));

    /// <summary>Removes every value of <paramref name="name"/>; returns how many there were.</summary>
    public int Remove(string name) => RemoveAll(name, 0);

    /// <summary>Removes every header.</summary>
    public void Clear() => _items.Clear();

    /// <summary>Removes every header but <paramref name="name"/>.</summary>
    public void RemoveAllBut(string name)
    {
        for (var i = _items.Count - 1; i >= 0; i--)
        {
            if (!IsName(_items[i], name))
            {
                _items.RemoveAt(i);
            }
        }
    }

    /// <summary>Whether every header is one of <paramref name="first"/> and <paramref name="second"/>.</summary>
    public bool HasOnly(string first, string second)
    {
        foreach (var header in _items)
        {
            if (!IsName(header, first) && !IsName(header, second))
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
            _items.Add(new(name, value));
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

        _items[index] = new(_items[index].Key, existing.Length == 0 ? value : existing + ", " + value);
    }

    /// <summary>Replaces the first value of <paramref name="name"/> if it is <paramref name="expected"/>.</summary>
    public void ReplaceIf(string name, string expected, string value)
    {
        var index = IndexOf(name);
        if (index >= 0 && _items[index].Value == expected)
        {
            _items[index] = new(_items[index].Key, value);
        }
    }

    /// <summary>Moves the first <paramref name="name"/> header to the front.</summary>
    public void MoveToFront(string name)
    {
        var index = IndexOf(name);
        if (index > 0)
        {
            var header = _items[index];
            _items.RemoveAt(index);
            _items.Insert(0, header);
        }
    }

    private static bool IsName(KeyValuePair<string, string> header, string name) =>
        string.Equals(header.Key, name, StringComparison.OrdinalIgnoreCase);

    private int IndexOf(string name)
    {
        for (var i = 0; i < _items.Count; i++)
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
        for (var i = _items.Count - 1; i >= from; i--)
        {
            if (IsName(_items[i], name))
            {
                _items.RemoveAt(i);
                removed++;
            }
        }

        return removed;
    }
}
