using System.Buffers;
using System.Globalization;
using System.Text;

namespace FastCgi.Tool;

/// <summary>
/// The head of a CGI response (RFC 3875 section 6) as it arrives in FCGI_STDOUT: header lines ended by CRLF or LF, up
/// to the empty line. <c>Status</c> gives the status (200 without it, 302 with a <c>Location</c> alone, 6.2.3-6.2.4).
/// </summary>
internal sealed class CgiResponseHead
{
    /// <summary>A head longer than this is not a CGI response head.</summary>
    public const int MaxLength = 64 * 1024;

    private readonly ArrayBufferWriter<byte> _pending = new();

    public int StatusCode { get; private set; } = 200;

    /// <summary>The reason phrase the application gave in <c>Status</c>, or none.</summary>
    public string? Reason { get; private set; }

    /// <summary>Every header but <c>Status</c>, in order.</summary>
    public List<KeyValuePair<string, string>> Headers { get; } = [];

    public bool IsComplete { get; private set; }

    /// <summary>
    /// Takes response bytes until the head ends.
    /// </summary>
    /// <returns>The bytes after the head (body bytes), empty while the head is incomplete.</returns>
    /// <exception cref="FormatException">The head is malformed or longer than <see cref="MaxLength"/>.</exception>
    public ReadOnlyMemory<byte> Feed(ReadOnlyMemory<byte> bytes)
    {
        var start = _pending.WrittenCount;
        _pending.Write(bytes.Span);
        var all = _pending.WrittenSpan;

        // Search from a little before the new bytes: the blank line may straddle two records.
        var from = Math.Max(0, start - 3);
        var end = FindEnd(all[from..], out var terminatorLength);
        if (end < 0)
        {
            if (all.Length > MaxLength)
            {
                throw new FormatException($"The response head is longer than {MaxLength} bytes.");
            }

            return ReadOnlyMemory<byte>.Empty;
        }

        end += from;
        Parse(Encoding.Latin1.GetString(all[..end]));
        IsComplete = true;
        var bodyStart = end + terminatorLength;
        var skippedOfNew = bodyStart - start;
        return bytes[skippedOfNew..];
    }

    private static int FindEnd(ReadOnlySpan<byte> bytes, out int terminatorLength)
    {
        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] != '\n')
            {
                continue;
            }

            if (i + 1 < bytes.Length && bytes[i + 1] == '\n')
            {
                terminatorLength = 2;
                return i;
            }

            if (i + 2 < bytes.Length && bytes[i + 1] == '\r' && bytes[i + 2] == '\n')
            {
                terminatorLength = 3;
                return i;
            }
        }

        terminatorLength = 0;
        return -1;
    }

    private void Parse(string head)
    {
        var hasLocation = false;
        var hasStatus = false;
        foreach (var rawLine in head.Split('\n'))
        {
            var line = rawLine.TrimEnd('\r');
            if (line.Length == 0)
            {
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                throw new FormatException($"The response head has a line that is not a header: '{line}'.");
            }

            var name = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            if (name.Equals("Status", StringComparison.OrdinalIgnoreCase))
            {
                var space = value.IndexOf(' ', StringComparison.Ordinal);
                var code = space < 0 ? value : value[..space];
                if (!int.TryParse(code, NumberStyles.None, CultureInfo.InvariantCulture, out var status) || status is < 100 or > 999)
                {
                    throw new FormatException($"The Status header is not a status: '{value}'.");
                }

                StatusCode = status;
                Reason = space < 0 ? null : value[(space + 1)..].Trim();
                hasStatus = true;
                continue;
            }

            hasLocation |= name.Equals("Location", StringComparison.OrdinalIgnoreCase);
            Headers.Add(new(name, value));
        }

        if (hasLocation && !hasStatus)
        {
            StatusCode = 302;
        }
    }
}
