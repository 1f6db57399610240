using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;

namespace FastCgi.Protocol;

/// <summary>Encodes name-value pairs (spec 3.4); the counterpart of <see cref="NameValueReader"/>.</summary>
internal static class NameValueWriter
{
    /// <summary>The size of the length prefix for <paramref name="length"/>: 1 byte below 128, else 4 (spec 3.4).</summary>
    public static int GetLengthSize(int length)
    {
        Debug.Assert(length >= 0, "Lengths are 0 to 2^31-1");
        return length < 0x80 ? 1 : 4;
    }

    /// <summary>The encoded size of a pair: both length prefixes, the name and the value.</summary>
    /// <exception cref="OverflowException">The pair is larger than <see cref="int.MaxValue"/> bytes.</exception>
    public static int GetEncodedSize(int nameLength, int valueLength)
    {
        return checked(GetLengthSize(nameLength) + GetLengthSize(valueLength) + nameLength + valueLength);
    }

    /// <summary>Writes the length prefix for <paramref name="length"/>.</summary>
    /// <returns>The bytes written: 1 or 4.</returns>
    public static int WriteLength(Span<byte> destination, int length)
    {
        Debug.Assert(length >= 0, "Lengths are 0 to 2^31-1");
        if (length < 0x80)
        {
            destination[0] = (byte)length;
            return 1;
        }

        // Spec 3.4: the top bit marks the four-byte form; int's 31 bits are exactly what it can carry.
        BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)length | 0x8000_0000);
        return 4;
    }

    /// <summary>Writes one pair into <paramref name="destination"/>.</summary>
    /// <returns>The bytes written, <see cref="GetEncodedSize"/> of the pair.</returns>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too short.</exception>
    public static int Write(Span<byte> destination, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        var size = GetEncodedSize(name.Length, value.Length);
        if (destination.Length < size)
        {
            throw new ArgumentException("The destination is too short for the name-value pair.", nameof(destination));
        }

        var used = WriteLength(destination, name.Length);
        used += WriteLength(destination[used..], value.Length);
        name.CopyTo(destination[used..]);
        used += name.Length;
        value.CopyTo(destination[used..]);
        used += value.Length;
        Debug.Assert(used == size, "GetEncodedSize matches what is written");
        return used;
    }

    /// <summary>Writes one pair into <paramref name="output"/>, in one span when the writer gives one that large.</summary>
    public static void Write(IBufferWriter<byte> output, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        var size = GetEncodedSize(name.Length, value.Length);
        var destination = output.GetSpan(size);
        if (destination.Length >= size)
        {
            Write(destination, name, value);
            output.Advance(size);
            return;
        }

        Span<byte> prefixes = stackalloc byte[8];
        var used = WriteLength(prefixes, name.Length);
        used += WriteLength(prefixes[used..], value.Length);
        output.Write(prefixes[..used]);
        output.Write(name);
        output.Write(value);
    }
}
