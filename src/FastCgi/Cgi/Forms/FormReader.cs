using System.Buffers;
using System.Globalization;
using System.Text;

namespace FastCgi.Cgi.Forms;

/// <summary>Parses a request's form: the query string plus a URL-encoded or multipart body.</summary>
internal static class FormReader
{
    private const int InitialBodyBuffer = 16 * 1024;

    /// <summary>
    /// Reads the form from <c>QUERY_STRING</c> and, for a POST, PUT or PATCH body of type
    /// <c>application/x-www-form-urlencoded</c> or <c>multipart/form-data</c>, from <paramref name="body"/> (its
    /// fields come after the query string's, so they win). A body of any other type is left unread.
    /// </summary>
    /// <exception cref="RequestRejectedException">413 when a limit is exceeded, 400 when the body is malformed.</exception>
    public static async ValueTask<Form> ReadAsync(IReadOnlyDictionary<string, string> environ, Stream body, Encoding encoding, RequestLimits limits, CancellationToken cancellationToken)
    {
        var form = new Form();
        var complete = false;
        try
        {
            var fieldCount = AddQuery(environ.GetValueOrDefault("QUERY_STRING") ?? "", encoding, limits, form, out var queryBytes);
            if (environ.GetValueOrDefault("REQUEST_METHOD") is "POST" or "PUT" or "PATCH"
                && environ.GetValueOrDefault("CONTENT_TYPE") is { } contentTypeHeader)
            {
                var contentType = HeaderParameters.Parse(contentTypeHeader);
                var contentLength = long.TryParse(environ.GetValueOrDefault("CONTENT_LENGTH"), NumberStyles.None, CultureInfo.InvariantCulture, out var length) ? length : -1;
                if (contentType.Value.Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
                {
                    await ReadUrlEncodedAsync(body, contentLength, limits.MaxUrlEncodedBytes - queryBytes, encoding, limits, form, fieldCount, cancellationToken).ConfigureAwait(false);
                }
                else if (contentType.Value.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
                {
                    await ReadMultipartAsync(body, contentType, contentLength, encoding, limits, form, fieldCount, cancellationToken).ConfigureAwait(false);
                }
            }

            complete = true;
            return form;
        }
        finally
        {
            if (!complete)
            {
                // A partial form may already own temporary files.
                form.Dispose();
            }
        }
    }

    /// <summary>Parses the query string alone.</summary>
    /// <exception cref="RequestRejectedException">413 when a limit is exceeded.</exception>
    public static Form ReadQuery(string query, Encoding encoding, RequestLimits limits)
    {
        var form = new Form();
        AddQuery(query, encoding, limits, form, out _);
        return form;
    }

    /// <summary>Whether a field name asks for the whole MIME part: it ends in <c>!</c> or <c>!*</c>.</summary>
    public static bool IsPartName(string name) => name.EndsWith('!') || name.EndsWith("!*", StringComparison.Ordinal);

    private static async ValueTask ReadUrlEncodedAsync(Stream body, long contentLength, long budget, Encoding encoding, RequestLimits limits, Form form, int fieldCount, CancellationToken cancellationToken)
    {
        if (contentLength > budget)
        {
            throw UrlEncodedTooLong(limits);
        }

        // One byte over the budget is enough to know the body is too long: never hold more than that.
        var cap = (int)Math.Min(budget + 1, Array.MaxLength);
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(cap, contentLength >= 0 ? contentLength + 1 : InitialBodyBuffer));
        try
        {
            var length = 0;
            while (true)
            {
                var room = Math.Min(buffer.Length, cap);
                if (length == room)
                {
                    if (room == cap)
                    {
                        throw UrlEncodedTooLong(limits);
                    }

                    var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min(cap, buffer.Length * 2L));
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                    room = Math.Min(buffer.Length, cap);
                }

                var read = await body.ReadAsync(buffer.AsMemory(length, room - length), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                length += read;
            }

            UrlEncodedFormParser.Parse(buffer.AsSpan(0, length), encoding, limits, form, fieldCount);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async ValueTask ReadMultipartAsync(Stream body, HeaderParameters contentType, long contentLength, Encoding encoding, RequestLimits limits, Form form, int fieldCount, CancellationToken cancellationToken)
    {
        if (contentLength > limits.MaxMultipartBytes)
        {
            RequestRejection.Throw(RequestRejectionReason.MultipartBodyTooLarge, limits.MaxMultipartBytes);
        }

        var boundary = contentType.Get("boundary");
        if (boundary is null)
        {
            RequestRejection.ThrowMalformed(RequestRejectionReason.InvalidMultipartBoundary, "the multipart/form-data Content-Type has no boundary parameter");
        }

        using var parser = new MultipartFormParser(body, boundary, encoding, limits);
        await parser.ReadAsync(form, fieldCount, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Adds the query string's fields to <paramref name="form"/>; returns how many.</summary>
    private static int AddQuery(string query, Encoding encoding, RequestLimits limits, Form form, out int queryBytes)
    {
        queryBytes = Encoding.UTF8.GetByteCount(query);
        if (queryBytes > limits.MaxUrlEncodedBytes)
        {
            throw UrlEncodedTooLong(limits);
        }

        return UrlEncodedFormParser.Parse(query, encoding, limits, form, 0);
    }

    private static RequestRejectedException UrlEncodedTooLong(RequestLimits limits) =>
        RequestRejection.Create(RequestRejectionReason.UrlEncodedFormTooLarge, limits.MaxUrlEncodedBytes);
}
