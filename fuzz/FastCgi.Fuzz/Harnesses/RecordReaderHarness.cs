using System.Buffers;
using System.Buffers.Binary;
using FastCgi.Protocol;

namespace FastCgi.Fuzz.Harnesses;

/// <summary>
/// <see cref="RecordReader.TryReadRecord"/> over a stream of records cut into segments, then the record bodies
/// through their decoders. Input: one byte whose low 3 bits give the number of cuts, one byte per cut (the gap
/// since the previous cut, so 0 makes an empty segment), then the records. <see cref="ProtocolException"/> is the
/// only exception allowed, and only where the bytes warrant it.
/// </summary>
internal static class RecordReaderHarness
{
    public static void Run(byte[] input)
    {
        if (input.Length == 0)
        {
            return;
        }

        var cuts = input[0] & 7;
        if (input.Length < 1 + cuts)
        {
            return;
        }

        var data = input[(1 + cuts)..];
        var points = new List<int>(cuts);
        var at = 0;
        for (var i = 1; i <= cuts; i++)
        {
            at = Math.Min(data.Length, at + input[i]);
            points.Add(at);
        }

        var buffer = FuzzInput.Segmented(data, points);
        var consumed = 0;
        var streams = new Dictionary<ushort, List<byte>>();
        while (true)
        {
            var before = buffer;
            bool read;
            RecordHeader header;
            ReadOnlySequence<byte> content;
            try
            {
                read = RecordReader.TryReadRecord(ref buffer, out header, out content);
            }
            catch (ProtocolException e)
            {
                FuzzInvariantException.Check(
                    e.Reason == ProtocolRejectionReason.UnsupportedVersion && consumed < data.Length && data[consumed] != FastCgiConstants.Version,
                    "ProtocolException " + e.Reason + " for a record that starts with version 1");
                FuzzInvariantException.Check(buffer.Length == before.Length && buffer.Start.Equals(before.Start), "The buffer moved on a rejected record");
                return;
            }

            var remaining = data.Length - consumed;
            if (!read)
            {
                FuzzInvariantException.Check(buffer.Length == before.Length && buffer.Start.Equals(before.Start), "The buffer moved on an incomplete record");
                FuzzInvariantException.Check(
                    remaining < FastCgiConstants.HeaderLength || remaining < ExpectedTotalLength(data.AsSpan(consumed)),
                    "TryReadRecord returned false with a whole record available");
                return;
            }

            var flat = data.AsSpan(consumed);
            FuzzInvariantException.Check(remaining >= FastCgiConstants.HeaderLength, "A record was read out of fewer than 8 bytes");
            FuzzInvariantException.Check(header.Version == FastCgiConstants.Version, "A record of another version was read");
            FuzzInvariantException.Check((byte)header.Type == flat[1], "Record type differs from the header bytes");
            FuzzInvariantException.Check(header.RequestId == BinaryPrimitives.ReadUInt16BigEndian(flat[2..]), "Request id differs from the header bytes");
            FuzzInvariantException.Check(header.ContentLength == BinaryPrimitives.ReadUInt16BigEndian(flat[4..]), "Content length differs from the header bytes");
            FuzzInvariantException.Check(header.PaddingLength == flat[6], "Padding length differs from the header bytes");
            FuzzInvariantException.Check(header.TotalLength == ExpectedTotalLength(flat) && header.TotalLength <= remaining, "Total length is wrong or past the input");
            FuzzInvariantException.Check(content.Length == header.ContentLength, "Content length does not match the header");
            FuzzInvariantException.Check(content.ToArray().AsSpan().SequenceEqual(flat.Slice(FastCgiConstants.HeaderLength, header.ContentLength)), "Content is not the bytes after the header");
            FuzzInvariantException.Check(buffer.Length == before.Length - header.TotalLength, "The buffer did not shrink by the record's length");
            consumed += header.TotalLength;
            DecodeBody(header, content, streams);
        }
    }

    private static int ExpectedTotalLength(ReadOnlySpan<byte> record) =>
        FastCgiConstants.HeaderLength + BinaryPrimitives.ReadUInt16BigEndian(record[4..]) + record[6];

    private static void DecodeBody(RecordHeader header, ReadOnlySequence<byte> content, Dictionary<ushort, List<byte>> streams)
    {
        switch (header.Type)
        {
            case RecordType.BeginRequest:
                try
                {
                    var body = BeginRequestBody.ReadFrom(content);
                    var bytes = content.Slice(0, BeginRequestBody.Length).ToArray();
                    FuzzInvariantException.Check((ushort)body.Role == BinaryPrimitives.ReadUInt16BigEndian(bytes) && body.Flags == bytes[2], "BEGIN_REQUEST body decoded wrongly");
                }
                catch (ProtocolException e)
                {
                    FuzzInvariantException.Check(e.Reason == ProtocolRejectionReason.InvalidBeginRequestBody && content.Length < BeginRequestBody.Length, "BEGIN_REQUEST body of 8 bytes or more rejected");
                }

                break;
            case RecordType.GetValues:
                try
                {
                    // A GET_VALUES body is name-value pairs (spec 4.1), read from one record.
                    var ignore = default(IgnorePairs);
                    NameValueReader.Parse(content.ToArray(), ref ignore);
                }
                catch (ProtocolException e)
                {
                    CheckNameValueReason(e);
                }

                break;
            case RecordType.Params:
                if (!streams.TryGetValue(header.RequestId, out var stream))
                {
                    stream = [];
                    streams[header.RequestId] = stream;
                }

                if (!content.IsEmpty)
                {
                    stream.AddRange(content.ToArray());
                    break;
                }

                // An empty PARAMS record ends the stream: a pair may straddle records, so it is parsed whole (spec 5.2).
                streams.Remove(header.RequestId);
                NameValueHarness.Run([.. stream]);

                break;
            default:
                break;
        }
    }

    private static void CheckNameValueReason(ProtocolException e) =>
        FuzzInvariantException.Check(
            e.Reason is ProtocolRejectionReason.NameValueTruncated or ProtocolRejectionReason.NameValueLengthPastContent,
            "Name-value data rejected for " + e.Reason);

    private struct IgnorePairs : INameValueHandler
    {
        public readonly void OnPair(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
        {
        }
    }
}
