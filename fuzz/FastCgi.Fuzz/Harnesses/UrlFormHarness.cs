using System.Text;
using FastCgi.Cgi;
using FastCgi.Cgi.Forms;
using FastCgi.Testing;

namespace FastCgi.Fuzz.Harnesses;

/// <summary>
/// <see cref="FormReader.ReadAsync"/> over a query string and an <c>application/x-www-form-urlencoded</c> body, with
/// small limits. Input: the first line is <c>QUERY_STRING</c>, the rest the body (<c>CONTENT_LENGTH</c> is given
/// when the input's length is even). <see cref="RequestRejectedException"/> is the only exception allowed. An
/// ASCII body is also parsed as a query string: the two paths must agree when both accept it.
/// </summary>
internal static class UrlFormHarness
{
    public static RequestLimits Limits { get; } = new()
    {
        MaxFormFields = 8,
        MaxUrlEncodedBytes = 512,
        MaxFieldValueBytes = 48,
    };

    public static void Run(byte[] input)
    {
        var (line, body) = FuzzInput.SplitFirstLine(input);
        var environ = CgiVariables.Bare(Encoding.UTF8.GetString(line), "POST", "application/x-www-form-urlencoded", input.Length % 2 == 0 ? body.Length : null);

        using var form = Read(environ, body);
        CheckLimits(form);

        if (Ascii.IsValid(body))
        {
            var asQuery = CgiVariables.Bare(Encoding.ASCII.GetString(body));
            var asBody = CgiVariables.Bare(null, "POST", "application/x-www-form-urlencoded");
            using var fromQuery = Read(asQuery, []);
            using var fromBody = Read(asBody, body);
            if (fromQuery is not null && fromBody is not null)
            {
                FuzzInvariantException.Check(Describe(fromQuery) == Describe(fromBody), "The query string and the body parse the same text differently");
            }
        }
    }

    private static Form? Read(Dictionary<string, string> environ, byte[] body)
    {
        try
        {
            return FormReader.ReadAsync(environ, new ChunkedStream(body), Encoding.UTF8, Limits, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        }
        catch (RequestRejectedException)
        {
            return null;
        }
    }

    private static void CheckLimits(Form? form)
    {
        if (form is null)
        {
            return;
        }

        var fields = 0;
        foreach (var (name, value) in form)
        {
            FuzzInvariantException.Check(!FormReader.IsPartName(name), "A URL-encoded field yielded a part name");
            FuzzInvariantException.Check(value.Kind != FormValueKind.Part, "A URL-encoded field yielded a part");
            fields += value.Kind == FormValueKind.List ? value.Items.Count : 1;
        }

        FuzzInvariantException.Check(fields <= Limits.MaxFormFields, "More fields than MaxFormFields");
    }

    private static string Describe(Form form)
    {
        var builder = new StringBuilder();
        foreach (var (name, value) in form.OrderBy(pair => pair.Key, StringComparer.Ordinal))
        {
            builder.Append(name).Append('\0').Append(value.Kind).Append('\0').Append(value.Text).Append('\0');
            foreach (var item in value.Items)
            {
                builder.Append(item.Kind).Append('\0').Append(item.Text).Append('\0');
            }
        }

        return builder.ToString();
    }
}
