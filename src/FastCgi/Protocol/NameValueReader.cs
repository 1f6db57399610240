using System.Buffers.Binary;
using System.Runtime.CompilerServices;

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
        var position = 0;
        while (position < data.Length)
        {
            var nameStart = ReadPair(data, ref position, out var nameLength, out var valueLength);
            handler.OnPair(data.Slice(nameStart, nameLength), data.Slice(nameStart + nameLength, valueLength));
        }
    }

    /// <summary>
    /// Decodes the pair that starts at <paramref name="position"/> without slicing: the name is at the returned offset,
    /// the value right after it.
    /// </summary>
    /// <param name="data">The whole name-value data.</param>
    /// <param name="position">Where the pair starts, before <c>data.Length</c>; on return, where the next one does.</param>
    /// <param name="nameLength">The name's length.</param>
    /// <param name="valueLength">The value's length.</param>
    /// <returns>The offset of the name in <paramref name="data"/>.</returns>
    /// <exception cref="ProtocolException">A length prefix is cut short, or a length runs past the data.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int ReadPair(ReadOnlySpan<byte> data, ref int position, out int nameLength, out int valueLength)
    {
        var at = position;

        // CGI names and most of their values are under 128 bytes: both lengths are then one byte each (spec 3.4).
        if ((uint)(at + 1) < (uint)data.Length && (data[at] | data[at + 1]) < 0x80)
        {
            nameLength = data[at];
            valueLength = data[at + 1];
            at += 2;
        }
        else
        {
            nameLength = ReadLength(data, ref at);
            valueLength = ReadLength(data, ref at);
        }

        // Check each length on its own against what remains: their sum could overflow (each is up to 2^31-1),
        // and a length is never trusted before it is checked (a malformed length must not crash the reader).
        var remaining = data.Length - at;
        if (nameLength > remaining)
        {
            ProtocolException.Throw(ProtocolRejectionReason.NameValueLengthPastContent, nameLength, remaining);
        }

        if (valueLength > remaining - nameLength)
        {
            ProtocolException.Throw(ProtocolRejectionReason.NameValueLengthPastContent, valueLength, remaining - nameLength);
        }

        position = at + nameLength + valueLength;
        return at;
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

    // The general path, out of line so that the one-byte case above stays small where it is inlined.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int ReadLength(ReadOnlySpan<byte> data, ref int at)
    {
        var rest = data[at..];
        if (!TryReadLength(rest, out var length, out var bytesUsed))
        {
            var needed = rest.IsEmpty || (rest[0] & 0x80) == 0 ? 1 : 4;
            ProtocolException.Throw(ProtocolRejectionReason.NameValueTruncated, needed, rest.Length);
        }

        at += bytesUsed;
        return length;
    }
}
