using System.Buffers;
using FastCgi.Testing;
using System.Text;
using FastCgi.Protocol;

namespace FastCgi.Benchmarks;

/// <summary>
/// The bytes the benchmarks share: the PARAMS nginx sends for a browser's GET of /hello
/// (<see cref="CgiVariables.NginxHello"/>), and one whole hello request as records (BEGIN_REQUEST with
/// FCGI_KEEP_CONN, PARAMS, empty PARAMS, empty STDIN).
/// </summary>
public static class Wire
{
    public static readonly KeyValuePair<string, string>[] Pairs = CgiVariables.NginxHello();

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
