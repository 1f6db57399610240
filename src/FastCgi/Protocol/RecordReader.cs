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
        // The header may straddle segments; copying its 8 bytes is cheaper than reading field by field across them.
        Span<byte> scratch = stackalloc byte[FastCgiConstants.HeaderLength];
        scoped var headerBytes = buffer.FirstSpan;
        if (headerBytes.Length < FastCgiConstants.HeaderLength)
        {
            var available = (int)Math.Min(buffer.Length, FastCgiConstants.HeaderLength);
            buffer.Slice(0, available).CopyTo(scratch);
            headerBytes = scratch[..available];
        }

        // Spec 3.3: the version comes first. Reject a peer that does not speak FastCGI 1.0 (or is out of step)
        // on its first byte instead of waiting for a whole record that may never come.
        if (headerBytes.Length != 0 && headerBytes[0] != FastCgiConstants.Version)
        {
            ProtocolException.Throw(ProtocolRejectionReason.UnsupportedVersion, headerBytes[0]);
        }

        if (headerBytes.Length < FastCgiConstants.HeaderLength)
        {
            header = default;
            content = default;
            return false;
        }

        header = RecordHeader.ReadFrom(headerBytes);

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
