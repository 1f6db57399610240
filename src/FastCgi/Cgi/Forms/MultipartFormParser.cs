using System.Buffers;
using System.Text;

namespace FastCgi.Cgi.Forms;

/// <summary>
/// A streaming <c>multipart/form-data</c> parser (RFC 7578 over RFC 2046 section 5.1.1). The body is read in large
/// chunks into one pooled buffer and scanned for the delimiter with a vectorised search; part bodies go straight to
/// a <see cref="PartBodySink"/>, so memory stays bounded whatever the upload's size.
/// </summary>
internal sealed class MultipartFormParser : IDisposable
{
    private const int ChunkSize = 64 * 1024;

    // RFC 2046 allows linear whitespace between a boundary and its CRLF; more than this is not padding but abuse.
    private const int MaxTransportPadding = 256;

    private static ReadOnlySpan<byte> HeaderBlockEnd => "\r\n\r\n"u8;

    private readonly Stream _body;
    private readonly Encoding _encoding;
    private readonly RequestLimits _limits;
    private readonly byte[] _delimiter;
    private readonly byte[] _buffer;
    private readonly PartBodySink _sink;
    private int _start;
    private int _end;
    private long _bodyBytes;
    private bool _endOfBody;

    private enum DelimiterKind
    {
        NotDelimiter,
        Part,
        Close,
    }

    /// <summary>Prepares to parse <paramref name="body"/>, whose parts are separated by <paramref name="boundary"/>.</summary>
    /// <exception cref="RequestRejectedException">400 when the boundary is not 1 to 70 ASCII characters (RFC 2046 section 5.1.1).</exception>
    public MultipartFormParser(Stream body, string boundary, Encoding encoding, RequestLimits limits)
    {
        if (boundary.Length is 0 or > 70 || !Ascii.IsValid(boundary) || boundary.AsSpan().IndexOfAny('\r', '\n') >= 0)
        {
            RequestRejection.ThrowMalformed(RequestRejectionReason.InvalidMultipartBoundary, "it is not 1 to 70 ASCII characters");
        }

        _body = body;
        _encoding = encoding;
        _limits = limits;

        // The delimiter is CRLF "--" boundary: the CRLF before it belongs to the delimiter, not to the part's body.
        _delimiter = Encoding.ASCII.GetBytes("\r\n--" + boundary);

        // Room for a whole header block plus a full chunk, so one read always fits after compaction.
        _buffer = ArrayPool<byte>.Shared.Rent(ChunkSize + limits.MaxPartHeaderBytes + HeaderBlockEnd.Length + _delimiter.Length + MaxTransportPadding);
        _sink = new PartBodySink(limits);

        // The first boundary may open the body without a CRLF before it; a CRLF put in front lets one search find
        // it either there or after a preamble.
        _buffer[0] = (byte)'\r';
        _buffer[1] = (byte)'\n';
        _end = 2;
    }

    /// <summary>Reads every part into <paramref name="form"/>; returns the field count including <paramref name="fieldCount"/>.</summary>
    /// <exception cref="RequestRejectedException">413 when a limit is exceeded, 400 when the body is malformed.</exception>
    public async ValueTask<int> ReadAsync(Form form, int fieldCount, CancellationToken cancellationToken)
    {
        // The preamble is discarded (RFC 2046 section 5.1.1); a body that opens with the close delimiter has no parts.
        var close = await ReadToDelimiterAsync(toSink: false, "no opening boundary", cancellationToken).ConfigureAwait(false);
        var parts = 0;
        while (!close)
        {
            if (++parts > _limits.MaxMultipartParts)
            {
                RequestRejection.Throw(RequestRejectionReason.TooManyMultipartParts, _limits.MaxMultipartParts);
            }

            if (++fieldCount > _limits.MaxFormFields)
            {
                RequestRejection.Throw(RequestRejectionReason.TooManyFormFields, _limits.MaxFormFields);
            }

            close = await ReadPartAsync(form, cancellationToken).ConfigureAwait(false);
        }

        // The epilogue is ignored and left unread.
        return fieldCount;
    }

    /// <summary>Returns the buffer and deletes a temporary file no part took over.</summary>
    public void Dispose()
    {
        _sink.Dispose();
        ArrayPool<byte>.Shared.Return(_buffer);
    }

    private async ValueTask<bool> ReadPartAsync(Form form, CancellationToken cancellationToken)
    {
        var headers = await ReadHeadersAsync(cancellationToken).ConfigureAwait(false);
        var (name, fileName) = ParseDisposition(headers);

        // A file body can be huge, so a file is always kept as a part, even without '!' in its name.
        var asPart = fileName is not null || FormReader.IsPartName(name);
        _sink.Begin(asPart);
        var close = await ReadToDelimiterAsync(toSink: true, "no closing boundary", cancellationToken).ConfigureAwait(false);
        form.Add(name, asPart
            ? FormValue.FromPart(await _sink.CompletePartAsync(name, fileName, headers).ConfigureAwait(false))
            : FormValue.FromText(_sink.CompleteText(_encoding)));
        return close;
    }

    /// <summary>
    /// Scans to the next delimiter, giving the bytes before it to the sink (or dropping them), and consumes the
    /// delimiter; returns whether it was the close delimiter.
    /// </summary>
    private async ValueTask<bool> ReadToDelimiterAsync(bool toSink, string missing, CancellationToken cancellationToken)
    {
        while (true)
        {
            var found = _buffer.AsSpan(_start, _end - _start).IndexOf(_delimiter);
            if (found >= 0)
            {
                if (toSink)
                {
                    await _sink.WriteAsync(_buffer.AsMemory(_start, found), cancellationToken).ConfigureAwait(false);
                }

                _start += found;
                var kind = await MatchDelimiterAsync(cancellationToken).ConfigureAwait(false);
                if (kind != DelimiterKind.NotDelimiter)
                {
                    return kind == DelimiterKind.Close;
                }

                // The boundary followed by something else is data. It holds no CR, so no delimiter can start inside it.
                if (toSink)
                {
                    await _sink.WriteAsync(_buffer.AsMemory(_start, _delimiter.Length), cancellationToken).ConfigureAwait(false);
                }

                _start += _delimiter.Length;
                continue;
            }

            // The tail may be the start of a delimiter split across reads: keep it for the next search.
            var safe = Math.Max(0, _end - _start - (_delimiter.Length - 1));
            if (toSink && safe > 0)
            {
                await _sink.WriteAsync(_buffer.AsMemory(_start, safe), cancellationToken).ConfigureAwait(false);
            }

            _start += safe;
            if (!await FillAsync(cancellationToken).ConfigureAwait(false))
            {
                RequestRejection.ThrowMalformed(RequestRejectionReason.MalformedMultipartBody, missing);
            }
        }
    }

    /// <summary>
    /// Classifies the delimiter at <c>_start</c> by what follows it: <c>--</c> closes the body; optional transport
    /// padding then CRLF opens a part, and then <c>_start</c> is left on that CRLF so the header block search sees
    /// an empty block as CRLF CRLF; anything else makes it data.
    /// </summary>
    private async ValueTask<DelimiterKind> MatchDelimiterAsync(CancellationToken cancellationToken)
    {
        var offset = _delimiter.Length;
        if (!await EnsureAsync(offset + 2, cancellationToken).ConfigureAwait(false))
        {
            RequestRejection.ThrowMalformed(RequestRejectionReason.MalformedMultipartBody, "it ends inside a boundary line");
        }

        if (_buffer[_start + offset] == '-' && _buffer[_start + offset + 1] == '-')
        {
            _start += offset + 2;
            return DelimiterKind.Close;
        }

        while (_buffer[_start + offset] is (byte)' ' or (byte)'\t')
        {
            if (++offset - _delimiter.Length > MaxTransportPadding)
            {
                RequestRejection.ThrowMalformed(RequestRejectionReason.MalformedMultipartBody, "too much whitespace after a boundary");
            }

            if (!await EnsureAsync(offset + 2, cancellationToken).ConfigureAwait(false))
            {
                RequestRejection.ThrowMalformed(RequestRejectionReason.MalformedMultipartBody, "it ends inside a boundary line");
            }
        }

        if (_buffer[_start + offset] == '\r' && _buffer[_start + offset + 1] == '\n')
        {
            _start += offset;
            return DelimiterKind.Part;
        }

        return DelimiterKind.NotDelimiter;
    }

    /// <summary>Reads the header block that starts at the CRLF ending the boundary line, up to the empty line.</summary>
    private async ValueTask<List<KeyValuePair<string, string>>> ReadHeadersAsync(CancellationToken cancellationToken)
    {
        var searched = 0;
        while (true)
        {
            var window = _buffer.AsSpan(_start, _end - _start);
            var found = window[searched..].IndexOf(HeaderBlockEnd);
            if (found >= 0)
            {
                found += searched;

                // The header bytes are the header lines, without the CRLF opening the block or the empty line.
                if (found - 2 > _limits.MaxPartHeaderBytes)
                {
                    throw HeadersTooLong();
                }

                var headers = found == 0 ? [] : ParseHeaderLines(window[2..found]);
                _start += found + HeaderBlockEnd.Length;
                return headers;
            }

            if (window.Length - 2 - (HeaderBlockEnd.Length - 1) > _limits.MaxPartHeaderBytes)
            {
                throw HeadersTooLong();
            }

            // Resume where the last search stopped, less a possibly split CRLF CRLF; compaction keeps offsets
            // relative to _start, so the resume point stays valid.
            searched = Math.Max(0, window.Length - (HeaderBlockEnd.Length - 1));
            if (!await FillAsync(cancellationToken).ConfigureAwait(false))
            {
                RequestRejection.ThrowMalformed(RequestRejectionReason.MalformedMultipartBody, "it ends inside a part's headers");
            }
        }
    }

    private RequestRejectedException HeadersTooLong() =>
        RequestRejection.Create(RequestRejectionReason.MultipartHeadersTooLarge, _limits.MaxPartHeaderBytes);

    private List<KeyValuePair<string, string>> ParseHeaderLines(ReadOnlySpan<byte> block)
    {
        var headers = new List<KeyValuePair<string, string>>();
        foreach (var range in block.Split("\r\n"u8))
        {
            var line = block[range];
            if (line.Length > 0 && line[0] is (byte)' ' or (byte)'\t' && headers.Count > 0)
            {
                // An obsolete folded line (RFC 5322 section 2.2.3) continues the previous header's value.
                var previous = headers[^1];
                headers[^1] = new(previous.Key, previous.Value + " " + _encoding.GetString(line.Trim(" \t"u8)));
                continue;
            }

            var colon = line.IndexOf((byte)':');
            if (colon <= 0)
            {
                RequestRejection.ThrowMalformed(RequestRejectionReason.MalformedMultipartBody, "a part's header line has no name");
            }

            headers.Add(new(
                Encoding.ASCII.GetString(line[..colon].Trim(" \t"u8)),
                _encoding.GetString(line[(colon + 1)..].Trim(" \t"u8))));
        }

        return headers;
    }

    // RFC 7578 section 4.2: every part has Content-Disposition: form-data with a name, and a file a filename.
    private static (string Name, string? FileName) ParseDisposition(List<KeyValuePair<string, string>> headers)
    {
        string? header = null;
        foreach (var (key, value) in headers)
        {
            if (key.Equals("Content-Disposition", StringComparison.OrdinalIgnoreCase))
            {
                header = value;
                break;
            }
        }

        if (header is null)
        {
            RequestRejection.ThrowMalformed(RequestRejectionReason.MalformedMultipartBody, "a part has no Content-Disposition");
        }

        // The HTML standard's multipart/form-data encoding: no backslash escapes, and ", CR and LF in a name or file
        // name sent as %22, %0D and %0A.
        var disposition = HeaderParameters.Parse(header, backslashEscapes: false);
        var name = DecodeHtmlEscapes(disposition.Get("name"));
        if (!disposition.Value.Equals("form-data", StringComparison.OrdinalIgnoreCase) || name is null)
        {
            RequestRejection.ThrowMalformed(RequestRejectionReason.MalformedMultipartBody, "a part's Content-Disposition is not form-data with a name");
        }

        var extended = disposition.Get("filename*");
        var fileName = extended is not null && ExtendedParameterValue.TryDecode(extended, out var decoded)
            ? decoded
            : DecodeHtmlEscapes(disposition.Get("filename"));
        return (name, fileName);
    }

    /// <summary>Turns <c>%22</c>, <c>%0D</c> and <c>%0A</c> back into <c>"</c>, CR and LF; every other character stays.</summary>
    private static string? DecodeHtmlEscapes(string? value)
    {
        if (value is null || !value.Contains('%', StringComparison.Ordinal))
        {
            return value;
        }

        var builder = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            var escaped = value[i] == '%' && i + 2 < value.Length
                ? value.AsSpan(i + 1, 2) switch
                {
                    "22" => '"',
                    "0D" or "0d" => '\r',
                    "0A" or "0a" => '\n',
                    _ => '\0',
                }
                : '\0';
            if (escaped == '\0')
            {
                builder.Append(value[i]);
            }
            else
            {
                builder.Append(escaped);
                i += 2;
            }
        }

        return builder.ToString();
    }

    private async ValueTask<bool> EnsureAsync(int count, CancellationToken cancellationToken)
    {
        while (_end - _start < count)
        {
            if (!await FillAsync(cancellationToken).ConfigureAwait(false))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Reads more of the body after the unconsumed bytes; <c>false</c> at the end of the body.</summary>
    private async ValueTask<bool> FillAsync(CancellationToken cancellationToken)
    {
        if (_endOfBody)
        {
            return false;
        }

        if (_start == _end)
        {
            _start = _end = 0;
        }
        else if (_buffer.Length - _end < ChunkSize)
        {
            // What is kept is at most a header block or a delimiter's length, so the move is cheap and rare.
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }

        var read = await _body.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
        if (read == 0)
        {
            _endOfBody = true;
            return false;
        }

        _end += read;
        _bodyBytes += read;
        if (_bodyBytes > _limits.MaxMultipartBytes)
        {
            RequestRejection.Throw(RequestRejectionReason.MultipartBodyTooLarge, _limits.MaxMultipartBytes);
        }

        return true;
    }
}
