using System.Text;
using FastCgi.Cgi.Forms;
using FastCgi.Testing;

namespace FastCgi.Fuzz.Harnesses;

/// <summary>
/// Builds a well-formed <c>multipart/form-data</c> body from the input and checks that <see cref="FormReader"/>
/// gives back exactly what went in, however the reads split it. Input: a flags byte (bit 0: a preamble, bit 1: an
/// epilogue, bit 2: transport padding after each boundary, bits 3-7: the boundary's length less one), then values
/// separated by 0x00; odd values are sent as file parts (spooled past 16 bytes), even ones as text fields. A value
/// that contains the delimiter cannot be sent (RFC 2046 section 5.1.1) and ends the input there. No exception is
/// allowed: the body is always within <see cref="MultipartHarness.Limits"/>.
/// </summary>
internal static class MultipartRoundTripHarness
{
    private const string BoundaryAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'()+_,-./:=? ";

    public static void Run(byte[] input)
    {
        if (input.Length == 0)
        {
            return;
        }

        var flags = input[0];
        var limits = MultipartHarness.Limits;
        var boundaryLength = 1 + (flags >> 3);
        var boundary = new StringBuilder();
        for (var i = 0; i < boundaryLength; i++)
        {
            // A boundary may not end in a space (RFC 2046 section 5.1.1 bcharsnospace).
            var alphabet = i == boundaryLength - 1 ? BoundaryAlphabet.Length - 1 : BoundaryAlphabet.Length;
            boundary.Append(BoundaryAlphabet[(i * 31 + input.Length) % alphabet]);
        }

        var delimiter = Encoding.ASCII.GetBytes("\r\n--" + boundary);
        var values = new List<byte[]>();
        foreach (var range in input.AsSpan(1).Split((byte)0))
        {
            var value = input.AsSpan(1)[range].ToArray();
            if (values.Count == limits.MaxMultipartParts || value.Length > limits.MaxFieldValueBytes || ((byte[])[.. value, .. delimiter]).AsSpan().IndexOf(delimiter) != value.Length)
            {
                break;
            }

            values.Add(value);
        }

        var body = new MemoryStream();
        var padding = (flags & 4) != 0 ? " \t "u8.ToArray() : [];
        if ((flags & 1) != 0)
        {
            body.Write("preamble, ignored"u8);
        }

        for (var i = 0; i < values.Count; i++)
        {
            // The first boundary has no CRLF before it when there is no preamble.
            body.Write(i == 0 && (flags & 1) == 0 ? delimiter.AsSpan(2) : delimiter);
            body.Write(padding);
            var header = i % 2 == 1
                ? $"\r\nContent-Disposition: form-data; name=\"f{i}\"; filename=\"f{i}.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                : $"\r\nContent-Disposition: form-data; name=\"f{i}\"\r\n\r\n";
            body.Write(Encoding.ASCII.GetBytes(header));
            body.Write(values[i]);
        }

        body.Write(values.Count == 0 && (flags & 1) == 0 ? delimiter.AsSpan(2) : delimiter);
        body.Write("--"u8);
        if ((flags & 2) != 0)
        {
            body.Write("\r\nepilogue --"u8);
            body.Write(delimiter);
        }

        var environ = CgiVariables.Bare(null, "POST", "multipart/form-data; boundary=\"" + boundary + "\"");
        using var form = FormReader.ReadAsync(environ, new ChunkedStream(body.ToArray()), Encoding.UTF8, limits, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        FuzzInvariantException.Check(form.Count == values.Count, "The form has " + form.Count + " fields for " + values.Count + " parts");
        for (var i = 0; i < values.Count; i++)
        {
            var field = form["f" + i];
            if (i % 2 == 1)
            {
                var part = field.Part ?? throw new FuzzInvariantException("A file part came back as " + field.Kind);
                using var stream = part.OpenRead();
                using var copy = new MemoryStream();
                stream.CopyTo(copy);
                FuzzInvariantException.Check(copy.ToArray().AsSpan().SequenceEqual(values[i]) && part.Length == values[i].Length, "A file part came back changed");
            }
            else
            {
                FuzzInvariantException.Check(field.Text == Encoding.UTF8.GetString(values[i]), "A text field came back changed");
            }
        }
    }
}
