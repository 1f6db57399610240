using System.Text;
using FastCgi.Cgi;
using FastCgi.Cgi.Forms;
using FastCgi.Testing;

namespace FastCgi.Fuzz.Harnesses;

/// <summary>
/// <see cref="FormReader.ReadAsync"/> over a <c>multipart/form-data</c> body, with small limits so parts spill to
/// temporary files. Input: the first line is what follows <c>boundary=</c> in the Content-Type (so it may be
/// quoted), the rest the body. <see cref="RequestRejectedException"/> is the only exception allowed. Every part must
/// read back at its stated length, and no temporary file may outlive <see cref="Form.Dispose"/> (or a rejection).
/// </summary>
internal static class MultipartHarness
{
    public static RequestLimits Limits { get; } = new()
    {
        MaxFormFields = 16,
        MaxMultipartParts = 8,
        MaxPartHeaderBytes = 256,
        MaxMultipartBytes = 16 * 1024,
        PartMemoryThreshold = 16,
        MaxFieldValueBytes = 64,
    };

    public static void Run(byte[] input)
    {
        var (line, body) = FuzzInput.SplitFirstLine(input);
        var environ = CgiVariables.Bare(null, "POST", "multipart/form-data; boundary=" + Encoding.UTF8.GetString(line), body.Length);

        var before = TemporaryFiles();
        Form form;
        try
        {
            form = FormReader.ReadAsync(environ, new ChunkedStream(body), Encoding.UTF8, Limits, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        }
        catch (RequestRejectedException)
        {
            CheckNoNewFiles(before, "a rejected body");
            return;
        }

        try
        {
            var parts = 0;
            foreach (var (name, value) in form)
            {
                foreach (var item in value.Kind == FormValueKind.List ? value.Items : [value])
                {
                    parts++;
                    if (item.Part is { } part)
                    {
                        FuzzInvariantException.Check(part.Name == name, "A part is filed under another name");
                        using var stream = part.OpenRead();
                        var length = 0L;
                        var chunk = new byte[4096];
                        int read;
                        while ((read = stream.Read(chunk)) > 0)
                        {
                            length += read;
                        }

                        FuzzInvariantException.Check(length == part.Length, "A part reads back at another length than it states");
                    }
                    else if (item.Text is { } text)
                    {
                        FuzzInvariantException.Check(Encoding.UTF8.GetMaxCharCount(Limits.MaxFieldValueBytes) >= text.Length, "A text field longer than MaxFieldValueBytes");
                    }
                }
            }

            FuzzInvariantException.Check(parts <= Limits.MaxMultipartParts, "More parts than MaxMultipartParts");
        }
        finally
        {
            form.Dispose();
        }

        CheckNoNewFiles(before, "Form.Dispose");
    }

    private static HashSet<string> TemporaryFiles() =>
        [.. Directory.EnumerateFiles(Path.GetTempPath(), "fastcgi-*")];

    private static void CheckNoNewFiles(HashSet<string> before, string after)
    {
        foreach (var file in TemporaryFiles())
        {
            FuzzInvariantException.Check(before.Contains(file), "A temporary file outlived " + after + ": " + Path.GetFileName(file));
        }
    }
}
