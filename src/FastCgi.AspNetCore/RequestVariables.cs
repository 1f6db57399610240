using System.Buffers.Binary;
using System.Text;

namespace FastCgi.AspNetCore;

/// <summary>The CGI variables the server maps to ASP.NET Core's request (RFC 3875 4.1).</summary>
internal enum CgiVariable
{
    RequestMethod,
    ServerProtocol,
    Https,
    RequestScheme,
    RequestUri,
    ScriptName,
    PathInfo,
    QueryString,
    ContentLength,
    ContentType,
    RemoteAddr,
    RemotePort,
    ServerAddr,
    ServerPort,
    ServerName,
    RemoteUser,
    AuthUser,
    AuthType,
}

/// <summary>
/// One request's CGI variables as the server maps them, read in one pass over the PARAMS bytes: the variables of
/// <see cref="CgiVariable"/> and every <c>HTTP_*</c> one as a header. Kept per connection, as Kestrel keeps its
/// request headers: a value whose bytes equal the previous request's reuses that request's string, so a web
/// server sending the same headers again and again costs no new strings.
/// </summary>
internal sealed class RequestVariables
{
    private static readonly byte[][] Names =
    [
        .. new[]
        {
            "REQUEST_METHOD", "SERVER_PROTOCOL", "HTTPS", "REQUEST_SCHEME", "REQUEST_URI", "SCRIPT_NAME", "PATH_INFO",
            "QUERY_STRING", "CONTENT_LENGTH", "CONTENT_TYPE", "REMOTE_ADDR", "REMOTE_PORT", "SERVER_ADDR", "SERVER_PORT",
            "SERVER_NAME", "REMOTE_USER", "AUTH_USER", "AUTH_TYPE",
        }.Select(Encoding.ASCII.GetBytes),
    ];

    /// <summary>The indexes into <see cref="Names"/> by name length: most variables a web server sends match none.</summary>
    private static readonly int[][] NamesByLength =
    [
        .. Enumerable.Range(0, Names.Max(name => name.Length) + 1)
            .Select(length => Enumerable.Range(0, Names.Length).Where(i => Names[i].Length == length).ToArray()),
    ];

    private readonly string?[] _values = new string?[Names.Length];
    private readonly string?[] _previous = new string?[Names.Length];
    private readonly List<Header> _headers = [];
    private int _headerCount;

    /// <summary>The value of <paramref name="variable"/>, or null when the web server did not send it.</summary>
    public string? this[CgiVariable variable] => _values[(int)variable];

    /// <summary>The <c>HTTP_*</c> variables as header names and values, in the order sent.</summary>
    public ReadOnlySpan<Header> Headers => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_headers)[.._headerCount];

    /// <summary>Reads a FastCGI PARAMS stream (spec 3.4), which the connection already checked is well formed.</summary>
    public void Load(ReadOnlySpan<byte> pairs)
    {
        Clear();
        while (!pairs.IsEmpty)
        {
            var nameLength = ReadLength(ref pairs);
            var valueLength = ReadLength(ref pairs);
            Add(pairs[..nameLength], pairs.Slice(nameLength, valueLength));
            pairs = pairs[(nameLength + valueLength)..];
        }
    }

    /// <summary>Reads the variables of a CGI program's environment.</summary>
    public void Load(IReadOnlyDictionary<string, string> environ)
    {
        Clear();
        foreach (var (name, value) in environ)
        {
            Add(Encoding.UTF8.GetBytes(name), Encoding.UTF8.GetBytes(value));
        }
    }

    /// <summary>Whether the request has a header named <paramref name="cgiName"/> (<c>HTTP_HOST</c>).</summary>
    public bool HasHeader(ReadOnlySpan<byte> cgiName)
    {
        foreach (var header in Headers)
        {
            if (header.CgiName.AsSpan().SequenceEqual(cgiName))
            {
                return true;
            }
        }

        return false;
    }

    private static int ReadLength(ref ReadOnlySpan<byte> pairs)
    {
        // One byte up to 127, else four with the top bit set (spec 3.4).
        if (pairs[0] < 0x80)
        {
            var length = pairs[0];
            pairs = pairs[1..];
            return length;
        }

        var longLength = (int)(BinaryPrimitives.ReadUInt32BigEndian(pairs) & 0x7FFFFFFF);
        pairs = pairs[4..];
        return longLength;
    }

    /// <summary>The previous string when the bytes are the same ASCII text, else a new one (UTF-8, as the library decodes PARAMS).</summary>
    private static string Decode(ReadOnlySpan<byte> bytes, string? previous) =>
        previous is not null && previous.Length == bytes.Length && Ascii.Equals(bytes, previous)
            ? previous
            : bytes.IsEmpty ? "" : Encoding.UTF8.GetString(bytes);

    /// <summary><c>HTTP_USER_AGENT</c> → <c>User-Agent</c>.</summary>
    private static string HeaderName(ReadOnlySpan<byte> cgiName)
    {
        Span<char> name = stackalloc char[cgiName.Length];
        var start = true;
        for (var i = 0; i < cgiName.Length; i++)
        {
            var c = (char)cgiName[i];
            name[i] = c == '_' ? '-' : start ? char.ToUpperInvariant(c) : char.ToLowerInvariant(c);
            start = c == '_';
        }

        return new string(name);
    }

    private void Clear()
    {
        Array.Clear(_values);
        _headerCount = 0;
    }

    private void Add(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        if (name.Length > 5 && name.StartsWith("HTTP_"u8))
        {
            AddHeader(name, value);
            return;
        }

        if (name.Length >= NamesByLength.Length)
        {
            return;
        }

        foreach (var i in NamesByLength[name.Length])
        {
            if (Names[i].AsSpan().SequenceEqual(name))
            {
                // A name sent twice: the last one counts, as in the library's Params.
                _values[i] = _previous[i] = Decode(value, _previous[i]);
                return;
            }
        }
    }

    private void AddHeader(ReadOnlySpan<byte> cgiName, ReadOnlySpan<byte> value)
    {
        // Web servers send the headers in the client's order, which rarely changes between requests on one
        // connection: the header at the same place is usually the same one again.
        if (_headerCount == _headers.Count || !_headers[_headerCount].CgiName.AsSpan().SequenceEqual(cgiName))
        {
            var header = new Header(cgiName.ToArray(), HeaderName(cgiName[5..]));
            if (_headerCount == _headers.Count)
            {
                _headers.Add(header);
            }
            else
            {
                _headers[_headerCount] = header;
            }
        }

        var slot = _headers[_headerCount++];
        slot.Value = Decode(value, slot.Value);
    }

    /// <summary>One <c>HTTP_*</c> variable: its CGI name, the header name, and its value this request.</summary>
    internal sealed class Header(byte[] cgiName, string name)
    {
        public byte[] CgiName { get; } = cgiName;

        public string Name { get; } = name;

        /// <summary>This request's value; the last request's until then, reused while the bytes stay the same.</summary>
        public string? Value { get; set; }
    }
}
