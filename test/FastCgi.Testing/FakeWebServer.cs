using System.IO.Pipelines;
using System.Text;

namespace FastCgi.Testing;

/// <summary>
/// A scripted web server for the in-memory tier, as Npgsql's tests script a fake PostgreSQL: it sends records and
/// streams cut where the test chooses, expects exact records back, and reads whole responses. It speaks over the two
/// ends of an in-memory duplex connection and knows nothing of how the application's side is built.
/// </summary>
public sealed class FakeWebServer : FcgiPeer
{
    private readonly PipeWriter _toApplication;

    /// <param name="fromApplication">What the application writes (its STDOUT, STDERR, END_REQUEST... records).</param>
    /// <param name="toApplication">What the application reads.</param>
    public FakeWebServer(PipeReader fromApplication, PipeWriter toApplication)
        : base(fromApplication)
    {
        _toApplication = toApplication;
    }

    /// <summary>
    /// Sends <paramref name="bytes"/> in one write; an application that stops reading fails the test after
    /// <see cref="FcgiPeer.Timeout"/> instead of holding it forever.
    /// </summary>
    public override async Task SendAsync(byte[] bytes)
    {
        using var cancel = new CancellationTokenSource(Timeout);
        await _toApplication.WriteAsync(bytes, cancel.Token);
    }

    /// <summary>Sends <paramref name="bytes"/> as separate writes, cut at each of the ascending offsets <paramref name="cuts"/>.</summary>
    public async Task SendSplitAsync(byte[] bytes, params int[] cuts)
    {
        var start = 0;
        foreach (var cut in cuts.Append(bytes.Length))
        {
            await SendAsync(bytes[start..cut]);
            start = cut;
        }
    }

    /// <summary>Sends every byte of <paramref name="bytes"/> in a write of its own.</summary>
    public Task SendByteByByteAsync(byte[] bytes) => SendSplitAsync(bytes, [.. Enumerable.Range(1, Math.Max(0, bytes.Length - 1))]);

    /// <summary>The web server closes its side: the application's input ends.</summary>
    public Task CloseAsync() => _toApplication.CompleteAsync().AsTask();

    /// <summary>Reads the next record and checks its type, request id and (when given) content exactly.</summary>
    public async Task<FcgiRecord> ExpectAsync(byte type, ushort requestId, byte[]? content = null)
    {
        var record = await ReadRecordAsync() ?? throw new ScriptException($"Expected a record of type {type} for request {requestId}; the connection closed.");
        if (record.Type != type || record.RequestId != requestId || (content is not null && !content.AsSpan().SequenceEqual(record.Content)))
        {
            var expected = content is null ? "" : ": " + Encoding.Latin1.GetString(content);
            throw new ScriptException($"Expected type {type}, request {requestId}{expected}; got {record}.");
        }

        return record;
    }

    /// <summary>Reads the next record and checks that it is END_REQUEST of <paramref name="requestId"/> with these statuses.</summary>
    public Task<FcgiRecord> ExpectEndRequestAsync(ushort requestId, byte protocolStatus = 0, int appStatus = 0) =>
        ExpectAsync(FcgiRecords.EndRequest, requestId, FcgiRecords.EndRequestBody(appStatus, protocolStatus));

    /// <summary>Checks that the application closes the connection next, with no record before.</summary>
    public async Task ExpectClosedAsync()
    {
        if (await ReadRecordAsync() is { } record)
        {
            throw new ScriptException($"Expected the connection to close; got {record}.");
        }
    }
}

/// <summary>The application did not do what the script expected.</summary>
public sealed class ScriptException(string message) : Exception(message);
