using System.Globalization;
using System.Text;
using FastCgi.Protocol;

namespace FastCgi.Tool;

/// <summary>
/// Writes every record sent (<c>&gt;</c>) and received (<c>&lt;</c>) as one line, the way <c>curl -v</c> traces a
/// conversation, with the decoded bodies of BEGIN_REQUEST, END_REQUEST and the name-value pairs of PARAMS.
/// </summary>
internal sealed class RecordTrace(TextWriter writer)
{
    private readonly Lock _lock = new();

    public void Sent(ReadOnlySpan<byte> records)
    {
        while (records.Length >= FastCgiConstants.HeaderLength)
        {
            var header = RecordHeader.ReadFrom(records);
            var content = records.Slice(FastCgiConstants.HeaderLength, Math.Min(header.ContentLength, records.Length - FastCgiConstants.HeaderLength));
            Write('>', header, content);
            records = records[Math.Min(header.TotalLength, records.Length)..];
        }
    }

    public void Received(RecordHeader header, ReadOnlySpan<byte> content) => Write('<', header, content);

    /// <summary>A line that is not a record, marked <c>*</c> as curl marks its own remarks.</summary>
    public void Note(string text)
    {
        lock (_lock)
        {
            writer.WriteLine("* " + text);
        }
    }

    private void Write(char direction, RecordHeader header, ReadOnlySpan<byte> content)
    {
        var line = new StringBuilder();
        line.Append(CultureInfo.InvariantCulture, $"{direction} {Name(header.Type)} id={header.RequestId} len={header.ContentLength}");
        if (header.PaddingLength != 0)
        {
            line.Append(CultureInfo.InvariantCulture, $" pad={header.PaddingLength}");
        }

        switch (header.Type)
        {
            case RecordType.BeginRequest when content.Length >= BeginRequestBody.Length:
                var begin = BeginRequestBody.ReadFrom(content);
                line.Append(CultureInfo.InvariantCulture, $" role={RoleName(begin.Role)} flags={(begin.KeepConnection ? "KEEP_CONN" : "0")}");
                break;
            case RecordType.EndRequest when content.Length >= EndRequestBody.Length:
                var end = EndRequestBody.ReadFrom(content);
                line.Append(CultureInfo.InvariantCulture, $" appStatus={end.AppStatus} protocolStatus={StatusName(end.ProtocolStatus)}");
                break;
            case RecordType.UnknownType when content.Length >= 1:
                line.Append(CultureInfo.InvariantCulture, $" type={content[0]}");
                break;
            case RecordType.Params or RecordType.GetValues or RecordType.GetValuesResult:
                AppendPairs(line, content);
                break;
            default:
                break;
        }

        lock (_lock)
        {
            writer.WriteLine(line.ToString());
        }
    }

    // Pairs are shown when the record holds whole pairs; PARAMS cut across records are shown as a byte count only.
    private static void AppendPairs(StringBuilder line, ReadOnlySpan<byte> content)
    {
        var pairs = new StringBuilder();
        while (!content.IsEmpty)
        {
            if (!NameValueReader.TryReadLength(content, out var nameLength, out var used1)
                || !NameValueReader.TryReadLength(content[used1..], out var valueLength, out var used2)
                || (long)used1 + used2 + nameLength + valueLength > content.Length)
            {
                return;
            }

            content = content[(used1 + used2)..];
            pairs.Append("\n    ").Append(Encoding.UTF8.GetString(content[..nameLength])).Append('=').Append(Encoding.UTF8.GetString(content.Slice(nameLength, valueLength)));
            content = content[(nameLength + valueLength)..];
        }

        line.Append(pairs);
    }

    public static string Name(RecordType type) => type switch
    {
        RecordType.BeginRequest => "BEGIN_REQUEST",
        RecordType.AbortRequest => "ABORT_REQUEST",
        RecordType.EndRequest => "END_REQUEST",
        RecordType.Params => "PARAMS",
        RecordType.Stdin => "STDIN",
        RecordType.Stdout => "STDOUT",
        RecordType.Stderr => "STDERR",
        RecordType.Data => "DATA",
        RecordType.GetValues => "GET_VALUES",
        RecordType.GetValuesResult => "GET_VALUES_RESULT",
        RecordType.UnknownType => "UNKNOWN_TYPE",
        _ => string.Create(CultureInfo.InvariantCulture, $"TYPE_{(byte)type}"),
    };

    public static string StatusName(ProtocolStatus status) => status switch
    {
        ProtocolStatus.RequestComplete => "REQUEST_COMPLETE",
        ProtocolStatus.CantMultiplexConnection => "CANT_MPX_CONN",
        ProtocolStatus.Overloaded => "OVERLOADED",
        ProtocolStatus.UnknownRole => "UNKNOWN_ROLE",
        _ => string.Create(CultureInfo.InvariantCulture, $"STATUS_{(byte)status}"),
    };

    private static string RoleName(Role role) => role switch
    {
        Role.Responder => "RESPONDER",
        Role.Authorizer => "AUTHORIZER",
        Role.Filter => "FILTER",
        _ => ((ushort)role).ToString(CultureInfo.InvariantCulture),
    };
}
