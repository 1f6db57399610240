using System.Buffers.Binary;
using System.Diagnostics;

namespace FastCgi.Protocol;

/// <summary>The body of <c>FCGI_END_REQUEST</c> (spec 5.5): appStatus (4 bytes, big-endian), protocolStatus, 3 reserved bytes.</summary>
internal readonly struct EndRequestBody
{
    /// <summary>The body's size on the wire.</summary>
    public const int Length = 8;

    public EndRequestBody(int appStatus, ProtocolStatus protocolStatus)
    {
        AppStatus = appStatus;
        ProtocolStatus = protocolStatus;
    }

    /// <summary>The application's status, like a CGI program's exit code (spec 5.5).</summary>
    public int AppStatus { get; }

    public ProtocolStatus ProtocolStatus { get; }

    /// <summary>Decodes the first 8 bytes of <paramref name="source"/>, as a web server reads them.</summary>
    public static EndRequestBody ReadFrom(ReadOnlySpan<byte> source)
    {
        Debug.Assert(source.Length >= Length, "FCGI_END_REQUEST body is 8 bytes");
        return new EndRequestBody(BinaryPrimitives.ReadInt32BigEndian(source), (ProtocolStatus)source[4]);
    }

    /// <summary>Encodes the body into the first 8 bytes of <paramref name="destination"/>, reserved bytes as 0.</summary>
    public void WriteTo(Span<byte> destination)
    {
        Debug.Assert(destination.Length >= Length, "FCGI_END_REQUEST body is 8 bytes");
        BinaryPrimitives.WriteInt32BigEndian(destination, AppStatus);
        destination[4] = (byte)ProtocolStatus;
        destination[5..Length].Clear();
    }
}
