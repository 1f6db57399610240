using System.Buffers.Binary;

namespace FastCgi.Protocol;

/// <summary>
/// Decodes name-value pairs (spec 3.4): name length, value length, name bytes, value bytes. A length below 128 is
/// one byte; otherwise four bytes, big-endian, with the top bit set and 31 bits of length.
/// </summary>
internal static class NameValueReader
{
    /// <summary>
    /// Calls <paramref name="handler"/> for each pair in <paramref name="data"/>. The caller passes the whole
    /// PARAMS stream (or GET_VALUES body) in one piece, because a pair may straddle the records of a stream (spec 5.2).
    /// </summary>
    /// <exception cref="ProtocolException">A length prefix is cut short, or a length runs past the data.</exception>
    public static void Parse<THandler>(ReadOnlySpan<byte> data, ref THandler handler)
        where THandler : INameValueHandler, allows ref struct
    {
        while (!data.IsEmpty)
        {
            var nameLength = ReadLength(ref data);
            var valueLength = ReadLength(ref data);

            // Check each length on its own against what remains: their sum could overflow (each is up to 2^31-1),
            // and a length is never trusted before it is checked (a malformed length must not crash the reader).
            if (nameLength > data.Length)
            {
                ProtocolException.Throw(ProtocolRejectionReason.NameValueLengthPastContent, nameLength, data.Length);
            }

            var name = data[..nameLength];
            data = data[nameLength..];
            if (valueLength > data.Length)
            {
                ProtocolException.Throw(ProtocolRejectionReason.NameValueLengthPastContent, valueLength, data.Length);
            }

            var value = data[..valueLength];
            data = data[valueLength..];
            handler.OnPair(name, value);
        }
    }

    /// <summary>Decodes one length prefix from the front of <paramref name="data"/>.</summary>
    /// <param name="data">The bytes that start with a length prefix.</param>
    /// <param name="length">The length, 0 to 2^31-1.</param>
    /// <param name="bytesUsed">The size of the prefix: 1 or 4.</param>
    /// <returns><see langword="false"/> when <paramref name="data"/> ends before the prefix does.</returns>
    public static bool TryReadLength(ReadOnlySpan<byte> data, out int length, out int bytesUsed)
    {
        if (data.IsEmpty)
        {
            length = 0;
            bytesUsed = 0;
            return false;
        }

        // Spec 3.4: the top bit of the first byte chooses the encoding. The four-byte form of a small length
        // is allowed, so it is not rejected.
        if ((data[0] & 0x80) == 0)
        {
            length = data[0];
            bytesUsed = 1;
            return true;
        }

        if (data.Length < 4)
        {
            length = 0;
            bytesUsed = 0;
            return false;
        }

        length = (int)(BinaryPrimitives.ReadUInt32BigEndian(data) & 0x7FFF_FFFF);
        bytesUsed = 4;
        return true;
    }

    private static int ReadLength(ref ReadOnlySpan<byte> data)
    {
        if (!TryReadLength(data, out var length, out var bytesUsed))
        {
            var needed = data.IsEmpty || (data[0] & 0x80) == 0 ? 1 : 4;
            ProtocolException.Throw(ProtocolRejectionReason.NameValueTruncated, needed, data.Length);
        }

        data = data[bytesUsed..];
        return length;
    }
}
