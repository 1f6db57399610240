using System.Buffers;
using BenchmarkDotNet.Attributes;
using FastCgi.Protocol;
using FastCgi.Testing;

namespace FastCgi.Benchmarks;

/// <summary>
/// The record codec on the read side: cutting the four records of one hello request out of the input, as the
/// connection's read loop does, from one segment (the usual case: the whole request arrived in one read) and from
/// 64-byte segments (every header and the PARAMS content straddle segments). Must allocate nothing.
/// </summary>
[MemoryDiagnoser]
public class RecordReaderBenchmarks
{
    private readonly byte[] _request = Wire.HelloRequest(1);
    private ReadOnlySequence<byte> _single;
    private ReadOnlySequence<byte> _multi;

    [GlobalSetup]
    public void Setup()
    {
        _single = new ReadOnlySequence<byte>(_request);
        _multi = Sequences.Segmented(_request, 64);
    }

    [Benchmark(Baseline = true)]
    public int SingleSegment() => ReadAll(_single);

    [Benchmark]
    public int MultiSegment() => ReadAll(_multi);

    private static int ReadAll(ReadOnlySequence<byte> buffer)
    {
        var count = 0;
        while (RecordReader.TryReadRecord(ref buffer, out var header, out var content))
        {
            count += header.ContentLength + (int)content.Length;
        }

        return count;
    }
}

/// <summary>
/// Name-value pairs (spec 3.4) over the nginx-like PARAMS block: decoding with a handler that only counts (the
/// codec alone, must allocate nothing) and with one that builds the environ dictionary as RequestContext does
/// (strings for 25 names and values plus the dictionary: the per-request price of the environ).
/// </summary>
[MemoryDiagnoser]
public class NameValueBenchmarks
{
    private readonly byte[] _params = Wire.Params;
    private readonly ArrayBufferWriter<byte> _output = new(4096);
    private readonly byte[][] _names = [.. Wire.Pairs.Select(p => System.Text.Encoding.ASCII.GetBytes(p.Key))];
    private readonly byte[][] _values = [.. Wire.Pairs.Select(p => System.Text.Encoding.ASCII.GetBytes(p.Value))];

    [Benchmark(Baseline = true)]
    public int ParseCountOnly()
    {
        var counter = new Counter();
        NameValueReader.Parse(_params, ref counter);
        return counter.Bytes;
    }

    [Benchmark]
    public int ParseToEnviron()
    {
        var builder = new EnvironBuilder(new Dictionary<string, string>(32, StringComparer.Ordinal));
        NameValueReader.Parse(_params, ref builder);
        return builder.Environ.Count;
    }

    [Benchmark]
    public int WritePairs()
    {
        _output.ResetWrittenCount();
        for (var i = 0; i < _names.Length; i++)
        {
            NameValueWriter.Write(_output, _names[i], _values[i]);
        }

        return _output.WrittenCount;
    }

    private struct Counter : INameValueHandler
    {
        public int Bytes;

        public void OnPair(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) => Bytes += name.Length + value.Length;
    }

    private readonly struct EnvironBuilder(Dictionary<string, string> environ) : INameValueHandler
    {
        public Dictionary<string, string> Environ => environ;

        public void OnPair(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) =>
            environ[System.Text.Encoding.UTF8.GetString(name)] = System.Text.Encoding.UTF8.GetString(value);
    }
}

/// <summary>
/// The record codec on the write side: a hello response body (45 bytes) and a 64 KiB chunk of the big action as
/// STDOUT records, and the end of a request (empty STDOUT + END_REQUEST). Must allocate nothing.
/// </summary>
[MemoryDiagnoser]
public class RecordWriterBenchmarks
{
    private readonly byte[] _hello = "Content-Type: text/plain\r\n\r\nHello, world!\n"u8.ToArray();
    private readonly byte[] _chunk = new byte[64 * 1024];
    private readonly ArrayBufferWriter<byte> _output = new(128 * 1024);

    [Benchmark(Baseline = true)]
    public int WriteStreamHello()
    {
        _output.ResetWrittenCount();
        RecordWriter.WriteStream(_output, RecordType.Stdout, 1, _hello);
        return _output.WrittenCount;
    }

    [Benchmark]
    public int WriteStream64K()
    {
        _output.ResetWrittenCount();
        RecordWriter.WriteStream(_output, RecordType.Stdout, 1, _chunk);
        return _output.WrittenCount;
    }

    [Benchmark]
    public int WriteEndOfRequest()
    {
        _output.ResetWrittenCount();
        RecordWriter.WriteEndOfStream(_output, RecordType.Stdout, 1);
        RecordWriter.WriteEndRequest(_output, 1, 0, ProtocolStatus.RequestComplete);
        return _output.WrittenCount;
    }
}
