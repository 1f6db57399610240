using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;

namespace FastCgi.Protocol;

/// <summary>The body of <c>FCGI_BEGIN_REQUEST</c> (spec 5.1): role (2 bytes, big-endian), flags, 5 reserved bytes.</summary>
internal readonly struct BeginRequestBody
{
    /// <summary>The body's size on the wire.</summary>
    public const int Length = 8;

    public BeginRequestBody(Role role, byte flags)
    {
        Role = role;
        Flags = flags;
    }

    /// <summary>The raw role; it may be a value outside <see cref="Protocol.Role"/>, which is answered with <c>FCGI_UNKNOWN_ROLE</c> (spec 5.1).</summary>
    public Role Role { get; }

    public byte Flags { get; }

    /// <summary><c>FCGI_KEEP_CONN</c>: the web server keeps the connection after this request ends (spec 5.1).</summary>
    public bool KeepConnection => (Flags & FastCgiConstants.KeepConnection) != 0;

    /// <summary>Whether <see cref="Role"/> is one of the three roles of spec 6.</summary>
    public bool IsKnownRole => Role is Role.Responder or Role.Authorizer or Role.Filter;

    /// <summary>
    /// Decodes the body from a record's content. Content shorter than 8 bytes is a connection-level error;
    /// bytes past the first 8 are ignored: they carry nothing the application needs, so closing the connection
    /// over them would gain nothing.
    /// </summary>
    /// <exception cref="ProtocolException">The content is shorter than 8 bytes.</exception>
    public static BeginRequestBody ReadFrom(ReadOnlySequence<byte> content)
    {
        if (content.Length < Length)
        {
            ProtocolException.Throw(ProtocolRejectionReason.InvalidBeginRequestBody, (int)content.Length);
        }

        var first = content.FirstSpan;
        if (first.Length >= Length)
        {
            return ReadFrom(first);
        }

        Span<byte> copy = stackalloc byte[Length];
        content.Slice(0, Length).CopyTo(copy);
        return ReadFrom(copy);
    }

    /// <summary>Decodes the first 8 bytes of <paramref name="source"/>.</summary>
    public static BeginRequestBody ReadFrom(ReadOnlySpan<byte> source)
    {
        Debug.Assert(source.Length >= Length, "FCGI_BEGIN_REQUEST body is 8 bytes");
        return new BeginRequestBody((Role)BinaryPrimitives.ReadUInt16BigEndian(source), source[2]);
    }

    /// <summary>Encodes the body into the first 8 bytes of <paramref name="destination"/>, reserved bytes as 0.</summary>
    public void WriteTo(Span<byte> destination)
    {
        Debug.Assert(destination.Length >= Length, "FCGI_BEGIN_REQUEST body is 8 bytes");
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)Role);
        destination[2] = Flags;
        destination[3..Length].Clear();
    }
}
