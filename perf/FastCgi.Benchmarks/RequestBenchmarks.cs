using BenchmarkDotNet.Attributes;
using FastCgi.Cgi;
using FastCgi.Testing;

namespace FastCgi.Benchmarks;

/// <summary>
/// The CGI layer's share of a hello request, without any transport: a new <see cref="Request"/> (a tiny subclass
/// whose transport only counts bytes), SetHeader("Content-Type"), Write("Hello, world!\n") into the buffer, and
/// Close, which serialises the header block and sends the body. This is what a handler costs on top of the codec.
/// </summary>
[MemoryDiagnoser]
public class RequestBenchmarks
{
    private readonly Dictionary<string, string> _environ = CgiVariables.NginxHello().ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

    [Benchmark(Baseline = true)]
    public long HelloBuffered()
    {
        using var request = new NullRequest(_environ);
        request.SetHeader("Content-Type", "text/plain");
        request.Write("Hello, world!\n");
        request.Close();
        return request.BytesWritten;
    }

    [Benchmark]
    public async Task<long> HelloBufferedAsync()
    {
        using var request = new NullRequest(_environ);
        request.SetHeader("Content-Type", "text/plain");
        request.Write("Hello, world!\n");
        await request.CloseAsync();
        return request.BytesWritten;
    }

    /// <summary>A request over a transport that only counts what it is given.</summary>
    internal sealed class NullRequest(IReadOnlyDictionary<string, string> environ) : Request
    {
        public long BytesWritten { get; private set; }

        public override IReadOnlyDictionary<string, string> Environ => environ;

        public override Stream Body => Stream.Null;

        protected override ValueTask TransportWriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
        {
            BytesWritten += data.Length;
            return ValueTask.CompletedTask;
        }

        protected override ValueTask TransportFlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        protected override ValueTask TransportCompleteAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        protected override void TransportWriteError(string message)
        {
        }
    }
}

/// <summary>
/// Form parsing through the internal FormReader: a GET with a 6-field URL-encoded query string (percent escapes and
/// plus signs included), and a POST of a small multipart/form-data body (two text fields and a 1 KiB file part,
/// kept in memory since it is under the 64 KiB spool threshold).
/// </summary>
[MemoryDiagnoser]
public class FormBenchmarks
{
    private const string Boundary = "----geckoformboundary8f2c1a9e4b";
    private readonly Dictionary<string, string> _getEnviron = CgiVariables.Bare("q=fast+cgi%20benchmark&page=2&sort=date&lang=en&filter%5Btype%5D=article&utm_source=news");

    private readonly Dictionary<string, string> _postEnviron = CgiVariables.Bare("", "POST", "multipart/form-data; boundary=" + Boundary);

    private byte[] _multipart = [];

    [GlobalSetup]
    public void Setup()
    {
        var file = new string('x', 1024);
        var text = $"--{Boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nHello\r\n"
            + $"--{Boundary}\r\nContent-Disposition: form-data; name=\"tags*\"\r\n\r\nperf\r\n"
            + $"--{Boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\n{file}\r\n"
            + $"--{Boundary}--\r\n";
        _multipart = System.Text.Encoding.ASCII.GetBytes(text);
        _postEnviron["CONTENT_LENGTH"] = _multipart.Length.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    [Benchmark(Baseline = true)]
    public async Task<int> QueryString()
    {
        using var form = await Cgi.Forms.FormReader.ReadAsync(_getEnviron, Stream.Null, System.Text.Encoding.UTF8, RequestLimits.Default, CancellationToken.None);
        return form.Count;
    }

    [Benchmark]
    public async Task<int> SmallMultipart()
    {
        using var body = new MemoryStream(_multipart, writable: false);
        using var form = await Cgi.Forms.FormReader.ReadAsync(_postEnviron, body, System.Text.Encoding.UTF8, RequestLimits.Default, CancellationToken.None);
        return form.Count;
    }
}
