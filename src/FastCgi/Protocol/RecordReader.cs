using System.Buffers;

namespace FastCgi.Protocol;

/// <summary>Cuts records (spec 3.3) out of the bytes read from the web server, without copying their content.</summary>
internal static class RecordReader
{
    /// <summary>
    /// Reads one record from the front of <paramref name="buffer"/>.
    /// </summary>
    /// <param name="buffer">
    /// The unread input. On success it is advanced past the record's header, content and padding;
    /// on failure it is left as it was.
    /// </param>
    /// <param name="header">The record's header.</param>
    /// <param name="content">The record's content, a slice of <paramref name="buffer"/> (valid as long as the input is).</param>
    /// <returns><see langword="false"/> when the header or the content and padding are not all there yet.</returns>
    /// <exception cref="ProtocolException">The version byte is not 1.</exception>
    public static bool TryReadRecord(ref ReadOnlySequence<byte> buffer, out RecordHeader header, out ReadOnlySequence<byte> content)
    {
        // Usually the header is whole in the first segment and is read where it is.
        var first = buffer.FirstSpan;
        if (first.Length < FastCgiConstants.HeaderLength)
        {
            return TryReadSplitHeader(ref buffer, out header, out content);
        }

        CheckVersion(first[0]);
        header = RecordHeader.ReadFrom(first);
        return TryTakeRecord(ref buffer, ref header, out content);
    }

    // The header straddles segments, or has not all come: copying its 8 bytes is cheaper than reading field by
    // field across segments.
    private static bool TryReadSplitHeader(ref ReadOnlySequence<byte> buffer, out RecordHeader header, out ReadOnlySequence<byte> content)
    {
        Span<byte> scratch = stackalloc byte[FastCgiConstants.HeaderLength];
        var available = (int)Math.Min(buffer.Length, FastCgiConstants.HeaderLength);
        buffer.Slice(0, available).CopyTo(scratch);
        if (available != 0)
        {
            CheckVersion(scratch[0]);
        }

        if (available < FastCgiConstants.HeaderLength)
        {
            header = default;
            content = default;
            return false;
        }

        header = RecordHeader.ReadFrom(scratch);
        return TryTakeRecord(ref buffer, ref header, out content);
    }

    // Spec 3.3: the version comes first. Reject a peer that does not speak FastCGI 1.0 (or is out of step)
    // on its first byte instead of waiting for a whole record that may never come.
    private static void CheckVersion(byte version)
    {
        if (version != FastCgiConstants.Version)
        {
            ProtocolException.Throw(ProtocolRejectionReason.UnsupportedVersion, version);
        }
    }

    private static bool TryTakeRecord(ref ReadOnlySequence<byte> buffer, ref RecordHeader header, out ReadOnlySequence<byte> content)
    {
        // Spec 3.3: the receiver ignores padding, but it is part of the record and must be consumed with it.
        if (buffer.Length < header.TotalLength)
        {
            header = default;
            content = default;
            return false;
        }

        content = buffer.Slice(FastCgiConstants.HeaderLength, header.ContentLength);
        buffer = buffer.Slice(header.TotalLength);
        return true;
    }
}
