using System.Buffers;
using FastCgi.Protocol;
using FastCgi.Testing;
using Xunit;

namespace FastCgi.Tests.Protocol;

/// <summary>The codec runs for every record of every request, so it must not allocate.</summary>
public class AllocationTests
{
    private const int Iterations = 1000;

    [Fact]
    public void TryReadRecord_allocates_nothing()
    {
        byte[] records =
        [
            1, 4, 0x00, 0x01, 0x00, 0x05, 3, 0, 1, 2, 3, 4, 5, 0, 0, 0,
            1, 5, 0x00, 0x01, 0x00, 0x00, 0, 0,
        ];

        // Split inside the first header, inside its content and inside the second header.
        var sequence = Sequences.Split(records, 3, 11, 20);
        ReadAll(sequence);

        Assert.Equal(0, LeastAllocated(() =>
        {
            for (var i = 0; i < Iterations; i++)
            {
                ReadAll(sequence);
            }
        }));
    }

    [Fact]
    public void RecordWriter_allocates_nothing()
    {
        var data = new byte[66000];
        var output = new ArrayBufferWriter<byte>(200_000);
        WriteAll(output, data);

        Assert.Equal(0, LeastAllocated(() =>
        {
            for (var i = 0; i < Iterations; i++)
            {
                output.ResetWrittenCount();
                WriteAll(output, data);
            }
        }));
    }

    [Fact]
    public void Name_value_pairs_and_bodies_allocate_nothing()
    {
        var output = new ArrayBufferWriter<byte>(4096);
        var beginRequest = Sequences.Split([0x00, 0x01, 0x01, 0, 0, 0, 0, 0], 1);
        var counted = RoundTrip(output, beginRequest);

        var rounds = 0;
        Assert.Equal(0, LeastAllocated(() =>
        {
            rounds++;
            for (var i = 0; i < Iterations; i++)
            {
                output.ResetWrittenCount();
                counted += RoundTrip(output, beginRequest);
            }
        }));
        Assert.Equal(2 * ((rounds * Iterations) + 1), counted);
    }

    /// <summary>
    /// The bytes <paramref name="iterations"/> allocates on this thread, the least of up to three runs: the runtime may
    /// allocate once while a run is measured (tiering a method up under load), whereas code that allocates per
    /// iteration allocates in every run.
    /// </summary>
    private static long LeastAllocated(Action iterations)
    {
        var least = long.MaxValue;
        for (var run = 0; run < 3 && least > 0; run++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            iterations();
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        return least;
    }

    private static void ReadAll(ReadOnlySequence<byte> buffer)
    {
        while (RecordReader.TryReadRecord(ref buffer, out _, out _))
        {
        }
    }

    private static void WriteAll(ArrayBufferWriter<byte> output, byte[] data)
    {
        RecordWriter.WriteRecord(output, RecordType.Stdout, 1, data.AsSpan(0, 13));
        RecordWriter.WriteStream(output, RecordType.Stdout, 1, data);
        RecordWriter.WriteEndOfStream(output, RecordType.Stdout, 1);
        RecordWriter.WriteEndRequest(output, 1, 0, ProtocolStatus.RequestComplete);
        RecordWriter.WriteUnknownType(output, 42);
    }

    private static int RoundTrip(ArrayBufferWriter<byte> output, ReadOnlySequence<byte> beginRequest)
    {
        NameValueWriter.Write(output, "SCRIPT_NAME"u8, "/index"u8);
        NameValueWriter.Write(output, "QUERY_STRING"u8, ReadOnlySpan<byte>.Empty);
        var counter = new PairCounter();
        NameValueReader.Parse(output.WrittenSpan, ref counter);
        var body = BeginRequestBody.ReadFrom(beginRequest);
        return body.KeepConnection ? counter.Count : -1;
    }

    private struct PairCounter : INameValueHandler
    {
        public int Count { get; private set; }

        public void OnPair(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) => Count++;
    }
}
