using System.Buffers;

namespace FastCgi.Protocol;

/// <summary>
/// The variables an <c>FCGI_GET_VALUES</c> record asks for (spec 4.1): name-value pairs whose values are empty.
/// Only the three variables of spec 4.1 are recorded; the application answers those it knows and ignores the rest.
/// </summary>
internal readonly struct GetValuesRequest
{
    public GetValuesRequest(bool maxConns, bool maxReqs, bool mpxsConns)
    {
        MaxConns = maxConns;
        MaxReqs = maxReqs;
        MpxsConns = mpxsConns;
    }

    /// <summary><c>FCGI_MAX_CONNS</c> was asked for.</summary>
    public bool MaxConns { get; }

    /// <summary><c>FCGI_MAX_REQS</c> was asked for.</summary>
    public bool MaxReqs { get; }

    /// <summary><c>FCGI_MPXS_CONNS</c> was asked for.</summary>
    public bool MpxsConns { get; }

    /// <summary>Parses the content of an <c>FCGI_GET_VALUES</c> record.</summary>
    /// <exception cref="ProtocolException">The content is not well-formed name-value pairs.</exception>
    public static GetValuesRequest Parse(ReadOnlySequence<byte> content)
    {
        if (content.IsSingleSegment)
        {
            return Parse(content.FirstSpan);
        }

        // Name-value parsing needs the bytes in one piece; a management record is at most 65535 bytes.
        var buffer = ArrayPool<byte>.Shared.Rent((int)content.Length);
        try
        {
            content.CopyTo(buffer);
            return Parse(buffer.AsSpan(0, (int)content.Length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Parses the content of an <c>FCGI_GET_VALUES</c> record held in one span.</summary>
    /// <exception cref="ProtocolException">The content is not well-formed name-value pairs.</exception>
    public static GetValuesRequest Parse(ReadOnlySpan<byte> content)
    {
        var names = new NameCollector();
        NameValueReader.Parse(content, ref names);
        return new GetValuesRequest(names.MaxConns, names.MaxReqs, names.MpxsConns);
    }

    private struct NameCollector : INameValueHandler
    {
        public bool MaxConns;
        public bool MaxReqs;
        public bool MpxsConns;

        // Spec 4.1 says the values are empty; a value sent anyway carries nothing to act on, so it is ignored.
        public void OnPair(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
        {
            MaxConns |= name.SequenceEqual(FastCgiConstants.MaxConnsUtf8);
            MaxReqs |= name.SequenceEqual(FastCgiConstants.MaxReqsUtf8);
            MpxsConns |= name.SequenceEqual(FastCgiConstants.MpxsConnsUtf8);
        }
    }
}
