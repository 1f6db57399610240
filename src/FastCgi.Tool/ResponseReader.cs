using FastCgi.Protocol;

namespace FastCgi.Tool;

/// <summary>How a request ended, as the application said in FCGI_END_REQUEST, or that it never said.</summary>
internal readonly record struct RequestOutcome(bool Ended, int AppStatus, ProtocolStatus ProtocolStatus)
{
    public bool Completed => Ended && ProtocolStatus == ProtocolStatus.RequestComplete;
}

/// <summary>Reads the records of one request until its FCGI_END_REQUEST, handing STDOUT and STDERR content on.</summary>
internal static class ResponseReader
{
    /// <summary>
    /// Reads until END_REQUEST for <paramref name="requestId"/> or the end of the connection. Records of other
    /// requests and management records are skipped (the trace shows them).
    /// </summary>
    public static async Task<RequestOutcome> ReadAsync(
        RecordChannel channel,
        ushort requestId,
        Func<ReadOnlyMemory<byte>, ValueTask> stdout,
        Func<ReadOnlyMemory<byte>, ValueTask> stderr,
        CancellationToken cancellationToken)
    {
        while (await channel.ReceiveAsync(cancellationToken).ConfigureAwait(false) is { } record)
        {
            if (record.Header.RequestId != requestId)
            {
                continue;
            }

            switch (record.Header.Type)
            {
                case RecordType.Stdout when !record.Content.IsEmpty:
                    await stdout(record.Content).ConfigureAwait(false);
                    break;
                case RecordType.Stderr when !record.Content.IsEmpty:
                    await stderr(record.Content).ConfigureAwait(false);
                    break;
                case RecordType.EndRequest when record.Content.Length >= EndRequestBody.Length:
                    var end = EndRequestBody.ReadFrom(record.Content.Span);
                    return new RequestOutcome(true, end.AppStatus, end.ProtocolStatus);
                default:
                    break;
            }
        }

        return default;
    }
}
