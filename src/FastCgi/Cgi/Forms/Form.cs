using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace FastCgi.Cgi;

/// <summary>
/// The parsed form (<see cref="Request.Params"/>): the query string plus a URL-encoded or multipart body.
/// Names ending in <c>*</c> collect every value into a list; names ending in <c>!</c> (or <c>!*</c>) yield whole
/// MIME parts and are only accepted from multipart bodies; otherwise the last value wins.
/// </summary>
public sealed class Form : IReadOnlyDictionary<string, FormValue>, IDisposable
{
    private readonly Dictionary<string, FormValue> _fields = new(StringComparer.Ordinal);

    /// <summary>An empty form.</summary>
    public Form()
    {
    }

    /// <inheritdoc />
    public FormValue this[string key] => _fields[key];

    /// <inheritdoc />
    public IEnumerable<string> Keys => _fields.Keys;

    /// <inheritdoc />
    public IEnumerable<FormValue> Values => _fields.Values;

    /// <inheritdoc />
    public int Count => _fields.Count;

    /// <inheritdoc />
    public bool ContainsKey(string key) => _fields.ContainsKey(key);

    /// <inheritdoc />
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out FormValue value) => _fields.TryGetValue(key, out value);

    /// <summary>The text of a field, or <c>null</c> when it is absent, has no value, or is not text.</summary>
    public string? GetText(string name) => _fields.TryGetValue(name, out var value) ? value.Text : null;

    /// <summary>The texts of a <c>*</c> field (empty when absent).</summary>
    public IReadOnlyList<string?> GetTexts(string name) =>
        _fields.TryGetValue(name, out var value) ? value.Items.Select(v => v.Text).ToList() : [];

    /// <summary>The part of a file or <c>!</c> field, or <c>null</c>.</summary>
    public FormPart? GetPart(string name) => _fields.TryGetValue(name, out var value) ? value.Part : null;

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, FormValue>> GetEnumerator() => _fields.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>
    /// Adds a value under jonpy's conventions: <c>*</c> names append to a list, others replace.
    /// </summary>
    internal void Add(string name, FormValue value)
    {
        if (name.EndsWith('*'))
        {
            if (!_fields.TryGetValue(name, out var list))
            {
                list = FormValue.NewList();
                _fields[name] = list;
            }

            list.ItemList!.Add(value);
        }
        else
        {
            if (_fields.TryGetValue(name, out var old))
            {
                old.Part?.Dispose();
            }

            _fields[name] = value;
        }
    }

    /// <summary>Deletes the temporary files of every part.</summary>
    public void Dispose()
    {
        foreach (var value in _fields.Values)
        {
            value.Part?.Dispose();
            foreach (var item in value.Items)
            {
                item.Part?.Dispose();
            }
        }
    }
}
