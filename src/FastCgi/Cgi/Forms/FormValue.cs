namespace FastCgi.Cgi;

/// <summary>What a <see cref="FormValue"/> holds.</summary>
public enum FormValueKind
{
    /// <summary>A field with no <c>=</c> (<c>?flag</c>): a name without a value, as distinct from an empty value.</summary>
    Null,

    /// <summary>A text value.</summary>
    Text,

    /// <summary>A whole MIME part: a file upload, or any part whose field name ends in <c>!</c>.</summary>
    Part,

    /// <summary>Every value of a field whose name ends in <c>*</c>.</summary>
    List,
}

/// <summary>
/// One entry of <see cref="Request.Params"/>: a text value, a null value, a whole MIME part, or (for names ending in
/// <c>*</c>) a list of those.
/// </summary>
public sealed class FormValue
{
    private static readonly FormValue NullValue = new(FormValueKind.Null, null, null, null);

    private FormValue(FormValueKind kind, string? text, FormPart? part, List<FormValue>? items)
    {
        Kind = kind;
        Text = text;
        Part = part;
        ItemList = items;
    }

    /// <summary>What this value holds.</summary>
    public FormValueKind Kind { get; }

    /// <summary>The text, for <see cref="FormValueKind.Text"/>; otherwise <c>null</c>.</summary>
    public string? Text { get; }

    /// <summary>The MIME part, for <see cref="FormValueKind.Part"/>; otherwise <c>null</c>.</summary>
    public FormPart? Part { get; }

    /// <summary>The values of a <c>*</c> field, in the order received; empty for other kinds.</summary>
    public IReadOnlyList<FormValue> Items => ItemList ?? (IReadOnlyList<FormValue>)[];

    internal List<FormValue>? ItemList { get; }

    /// <summary>The value of a field with no <c>=</c>.</summary>
    public static FormValue Null => NullValue;

    /// <summary>Creates a text value.</summary>
    public static FormValue FromText(string text) => new(FormValueKind.Text, text, null, null);

    /// <summary>Creates a part value.</summary>
    public static FormValue FromPart(FormPart part) => new(FormValueKind.Part, null, part, null);

    /// <summary>Creates an empty list, for a <c>*</c> field.</summary>
    internal static FormValue NewList() => new(FormValueKind.List, null, null, []);

    /// <summary>The text, or <c>null</c>.</summary>
    public override string? ToString() => Text;
}
