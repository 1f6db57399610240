using System.Text;
using FastCgi.Testing;
using FastCgi.Connection;

namespace FastCgi.Tests.Support;

/// <summary>
/// A <see cref="Request"/> over an in-memory environ and body that records every transport call in order, so a test
/// can assert both the bytes a client would get and when they were sent.
/// </summary>
/// <remarks>
/// Each call adds one entry to <see cref="Log"/>: <c>write:&lt;bytes as Latin-1&gt;</c>, <c>flush</c>,
/// <c>complete</c> or <c>error:&lt;text&gt;</c>; Latin-1 maps every byte to one char, so the entry is the exact bytes.
/// Every transport call is asynchronous (the synchronous API waits on them); <see cref="AsyncCalls"/> counts them.
/// </remarks>
public sealed class RecordingRequest : Request
{
    private readonly MemoryStream _output = new();
    private readonly StringBuilder _errors = new();

    /// <summary>Creates a request; the abort token is live, as under a transport that can see aborts.</summary>
    public RecordingRequest(IReadOnlyDictionary<string, string>? environ = null, byte[]? body = null)
    {
        Environ = environ ?? CgiVariables.Bare();
        Body = new MemoryStream(body ?? [], writable: false);
        EnableAbortToken();
    }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, string> Environ { get; }

    /// <inheritdoc />
    public override Stream Body { get; }

    /// <summary>Every transport call, in order.</summary>
    public List<string> Log { get; } = [];

    /// <summary>Every byte written to the transport (headers and body).</summary>
    public byte[] Output => _output.ToArray();

    /// <summary><see cref="Output"/> as Latin-1 text: one char per byte.</summary>
    public string OutputText => Encoding.Latin1.GetString(Output);

    /// <summary>Everything written to the error log.</summary>
    public string ErrorLog => _errors.ToString();

    /// <summary>How many transport calls were made (all of them asynchronous).</summary>
    public int AsyncCalls { get; private set; }

    /// <summary>When set, body/header writes throw <see cref="IOException"/>, as a broken pipe does.</summary>
    public bool FailWrites { get; set; }

    /// <summary>When set, <see cref="Request.Error"/> throws <see cref="IOException"/>, as a lost error stream does.</summary>
    public bool FailErrors { get; set; }

    /// <summary>When set, completing the response throws this, as a transport failing in an unexpected way does.</summary>
    public Exception? CompleteFailure { get; set; }

    /// <summary>The log entries for transport writes only, as text.</summary>
    public IEnumerable<string> Writes => Log.Where(e => e.StartsWith("write:", StringComparison.Ordinal)).Select(e => e[6..]);

    /// <summary>Splits <see cref="Output"/> at the first empty line: the head (without it) and the body bytes.</summary>
    public (string Head, byte[] Body) SplitOutput()
    {
        var output = Output;
        var end = output.AsSpan().IndexOf("\r\n\r\n"u8);
        if (end < 0)
        {
            throw new InvalidOperationException("No complete header block was written.");
        }

        return (Encoding.Latin1.GetString(output, 0, end + 2), output[(end + 4)..]);
    }

    /// <summary>Aborts the request as the transport would (FCGI_ABORT_REQUEST is <see cref="AbortReason.WebServer"/>).</summary>
    public void AbortFromTransport(AbortReason reason) => Abort(reason);

    /// <inheritdoc />
    protected override ValueTask TransportWriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        AsyncCalls++;
        if (FailWrites)
        {
            throw new IOException("Broken pipe");
        }

        Log.Add("write:" + Encoding.Latin1.GetString(data.Span));
        _output.Write(data.Span);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    protected override ValueTask TransportFlushAsync(CancellationToken cancellationToken)
    {
        AsyncCalls++;
        Log.Add("flush");
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    protected override ValueTask TransportCompleteAsync(CancellationToken cancellationToken)
    {
        AsyncCalls++;
        if (CompleteFailure is not null)
        {
            throw CompleteFailure;
        }

        Log.Add("complete");
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    protected override void TransportWriteError(string message)
    {
        if (FailErrors)
        {
            throw new IOException("Error stream closed");
        }

        Log.Add("error:" + message);
        _errors.Append(message);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        // The base first: releasing the output may still reach the transport, which the log should show.
        base.Dispose(disposing);
        if (disposing)
        {
            _output.Dispose();
            Body.Dispose();
        }
    }
}
