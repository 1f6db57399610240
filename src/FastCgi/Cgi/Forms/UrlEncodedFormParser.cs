using System.Text;

namespace FastCgi.Cgi.Forms;

/// <summary>
/// Parses <c>application/x-www-form-urlencoded</c> data (the query string, or a body): <c>&amp;</c>-separated
/// <c>name=value</c> pairs, <c>+</c> for a space and <c>%XX</c> for a byte (WHATWG URL standard, section 5.1).
/// </summary>
internal static class UrlEncodedFormParser
{
    /// <summary>Adds the query string's fields to <paramref name="form"/>; returns the field count including <paramref name="fieldCount"/>.</summary>
    /// <exception cref="RequestRejectedException">413 when there are too many fields or a value is too long.</exception>
    public static int Parse(ReadOnlySpan<char> query, Encoding encoding, RequestLimits limits, Form form, int fieldCount)
    {
        foreach (var range in query.Split('&'))
        {
            var pair = query[range];
            if (pair.IsEmpty)
            {
                continue;
            }

            fieldCount = CountField(fieldCount, limits);
            var equals = pair.IndexOf('=');
            var name = PercentCoding.Decode(equals < 0 ? pair : pair[..equals], plusIsSpace: true, encoding);
            if (FormReader.IsPartName(name))
            {
                continue;
            }

            if (equals < 0)
            {
                form.Add(name, FormValue.Null);
                continue;
            }

            var value = PercentCoding.Decode(pair[(equals + 1)..], plusIsSpace: true, encoding);

            // The cheap upper bound spares counting the bytes of every ordinary value.
            if (encoding.GetMaxByteCount(value.Length) > limits.MaxFieldValueBytes && encoding.GetByteCount(value) > limits.MaxFieldValueBytes)
            {
                throw ValueTooLong(limits);
            }

            form.Add(name, FormValue.FromText(value));
        }

        return fieldCount;
    }

    /// <summary>
    /// Adds a body's fields to <paramref name="form"/>, decoding in place (the bytes are garbage afterwards);
    /// returns the field count including <paramref name="fieldCount"/>.
    /// </summary>
    /// <exception cref="RequestRejectedException">413 when there are too many fields or a value is too long.</exception>
    public static int Parse(Span<byte> body, Encoding encoding, RequestLimits limits, Form form, int fieldCount)
    {
        while (!body.IsEmpty)
        {
            var ampersand = body.IndexOf((byte)'&');
            var pair = ampersand < 0 ? body : body[..ampersand];
            body = ampersand < 0 ? [] : body[(ampersand + 1)..];
            if (pair.IsEmpty)
            {
                continue;
            }

            fieldCount = CountField(fieldCount, limits);
            var equals = pair.IndexOf((byte)'=');
            var rawName = equals < 0 ? pair : pair[..equals];
            var name = encoding.GetString(rawName[..PercentCoding.DecodeInPlace(rawName, plusIsSpace: true)]);
            if (FormReader.IsPartName(name))
            {
                continue;
            }

            if (equals < 0)
            {
                form.Add(name, FormValue.Null);
                continue;
            }

            var rawValue = pair[(equals + 1)..];
            var length = PercentCoding.DecodeInPlace(rawValue, plusIsSpace: true);
            if (length > limits.MaxFieldValueBytes)
            {
                throw ValueTooLong(limits);
            }

            form.Add(name, FormValue.FromText(encoding.GetString(rawValue[..length])));
        }

        return fieldCount;
    }

    private static int CountField(int fieldCount, RequestLimits limits) =>
        fieldCount < limits.MaxFormFields
            ? fieldCount + 1
            : throw RequestRejection.Create(RequestRejectionReason.TooManyFormFields, limits.MaxFormFields);

    private static RequestRejectedException ValueTooLong(RequestLimits limits) =>
        RequestRejection.Create(RequestRejectionReason.FormValueTooLong, limits.MaxFieldValueBytes);
}
