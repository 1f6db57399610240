using System.Buffers;
using FastCgi.Tests.Support;
using System.Text;
using FastCgi.Protocol;

namespace FastCgi.Benchmarks;

/// <summary>
/// The bytes the benchmarks share: the PARAMS nginx sends with its stock fastcgi_params for a browser's GET of
/// /hello (25 pairs, 733 bytes, the same set perf/loadgen/fcgi-load.c sends), and one whole hello request as
/// records (BEGIN_REQUEST with FCGI_KEEP_CONN, PARAMS, empty PARAMS, empty STDIN).
/// </summary>
public static class Wire
{
    public static readonly KeyValuePair<string, string>[] Pairs =
    [
        new("QUERY_STRING", ""),
        new("REQUEST_METHOD", "GET"),
        new("CONTENT_TYPE", ""),
        new("CONTENT_LENGTH", ""),
        new("SCRIPT_NAME", "/hello"),
        new("REQUEST_URI", "/hello"),
        new("DOCUMENT_URI", "/hello"),
        new("DOCUMENT_ROOT", "/var/www/html"),
        new("SERVER_PROTOCOL", "HTTP/1.1"),
        new("REQUEST_SCHEME", "http"),
        new("GATEWAY_INTERFACE", "CGI/1.1"),
        new("SERVER_SOFTWARE", "nginx/1.22.1"),
        new("REMOTE_ADDR", "127.0.0.1"),
        new("REMOTE_PORT", "52814"),
        new("SERVER_ADDR", "127.0.0.1"),
        new("SERVER_PORT", "8080"),
        new("SERVER_NAME", "localhost"),
        new("REDIRECT_STATUS", "200"),
        new("SCRIPT_FILENAME", "/var/www/html/hello"),
        new("HTTP_HOST", "localhost:8080"),
        new("HTTP_USER_AGENT", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"),
        new("HTTP_ACCEPT", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"),
        new("HTTP_ACCEPT_LANGUAGE", "en-GB,en;q=0.7,fr;q=0.3"),
        new("HTTP_ACCEPT_ENCODING", "gzip, deflate, br, zstd"),
        new("HTTP_CONNECTION", "keep-alive"),
    ];

    /// <summary>The name-value encoding of <see cref="Pairs"/>: the content of the PARAMS stream.</summary>
    public static readonly byte[] Params = EncodeParams();

    /// <summary>One hello request for <paramref name="requestId"/>, as the web server writes it.</summary>
    public static byte[] HelloRequest(ushort requestId)
    {
        var output = new ArrayBufferWriter<byte>(1024);
        RecordWriter.WriteRecord(output, RecordType.BeginRequest, requestId, [0, 1, FastCgiConstants.KeepConnection, 0, 0, 0, 0, 0]);
        RecordWriter.WriteStream(output, RecordType.Params, requestId, Params);
        RecordWriter.WriteEndOfStream(output, RecordType.Params, requestId);
        RecordWriter.WriteEndOfStream(output, RecordType.Stdin, requestId);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>A sequence over <paramref name="data"/> cut into segments of <paramref name="segmentSize"/> bytes.</summary>
    public static ReadOnlySequence<byte> Segmented(byte[] data, int segmentSize)
    {
        TestSegment? first = null;
        TestSegment? last = null;
        for (var offset = 0; offset < data.Length; offset += segmentSize)
        {
            var piece = data.AsMemory(offset, Math.Min(segmentSize, data.Length - offset));
            last = last is null ? first = new TestSegment(piece) : last.Append(piece);
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private static byte[] EncodeParams()
    {
        var output = new ArrayBufferWriter<byte>(1024);
        foreach (var (name, value) in Pairs)
        {
            NameValueWriter.Write(output, Encoding.ASCII.GetBytes(name), Encoding.ASCII.GetBytes(value));
        }

        return output.WrittenSpan.ToArray();
    }
}
