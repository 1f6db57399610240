using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;

namespace FastCgi.Protocol;

/// <summary>
/// The 8-byte header that starts every record (spec 3.3): version, type, requestId (big-endian),
/// contentLength (big-endian), paddingLength and one reserved byte.
/// </summary>
internal readonly struct RecordHeader
{
    public RecordHeader(RecordType type, ushort requestId, ushort contentLength, byte paddingLength)
        : this(FastCgiConstants.Version, type, requestId, contentLength, paddingLength)
    {
    }

    public RecordHeader(byte version, RecordType type, ushort requestId, ushort contentLength, byte paddingLength)
    {
        Version = version;
        Type = type;
        RequestId = requestId;
        ContentLength = contentLength;
        PaddingLength = paddingLength;
    }

    /// <summary>The protocol version; anything but 1 is rejected by <see cref="RecordReader"/>.</summary>
    public byte Version { get; }

    /// <summary>The record type; a value outside <see cref="RecordType"/> is kept as it is so it can be answered with <c>FCGI_UNKNOWN_TYPE</c> (spec 4.2).</summary>
    public RecordType Type { get; }

    /// <summary>The request the record belongs to; 0 for management records.</summary>
    public ushort RequestId { get; }

    /// <summary>How many content bytes follow the header, 0 to 65535.</summary>
    public ushort ContentLength { get; }

    /// <summary>How many bytes of padding follow the content; the receiver skips them (spec 3.3).</summary>
    public byte PaddingLength { get; }

    /// <summary>Header, content and padding: how many bytes the whole record takes on the wire.</summary>
    public int TotalLength => FastCgiConstants.HeaderLength + ContentLength + PaddingLength;

    /// <summary>Request id 0 marks a management record (spec 3.3, 4).</summary>
    public bool IsManagement => RequestId == FastCgiConstants.NullRequestId;

    /// <summary>Decodes the first 8 bytes of <paramref name="source"/>; the version is not checked here.</summary>
    public static RecordHeader ReadFrom(ReadOnlySpan<byte> source)
    {
        Debug.Assert(source.Length >= FastCgiConstants.HeaderLength, "A record header is 8 bytes");
        return new RecordHeader(
            source[0],
            (RecordType)source[1],
            BinaryPrimitives.ReadUInt16BigEndian(source[2..]),
            BinaryPrimitives.ReadUInt16BigEndian(source[4..]),
            source[6]);
    }

    /// <summary>Encodes the header into the first 8 bytes of <paramref name="destination"/>, the reserved byte as 0.</summary>
    public void WriteTo(Span<byte> destination)
    {
        Debug.Assert(destination.Length >= FastCgiConstants.HeaderLength, "A record header is 8 bytes");
        destination[0] = Version;
        destination[1] = (byte)Type;
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], RequestId);
        BinaryPrimitives.WriteUInt16BigEndian(destination[4..], ContentLength);
        destination[6] = PaddingLength;
        destination[7] = 0;
    }

    /// <summary>A one-line form for logs, such as <c>Params id=1 len=120 pad=0</c>.</summary>
    public override string ToString()
    {
        return string.Create(
            CultureInfo.InvariantCulture,
            $"{Type} id={RequestId} len={ContentLength} pad={PaddingLength}");
    }
}
