using System.Buffers;
using System.IO.Pipelines;
using FastCgi.Protocol;

namespace FastCgi.Connection;

/// <summary>
/// The connection's state for one request id: its role and flags, the PARAMS bytes until the stream ends, and
/// the STDIN and DATA pipes the read loop fills while the handler reads them.
/// </summary>
internal sealed class RequestContext
{
    private byte[] _params = [];
    private int _paramsLength;

    public RequestContext(FastCgiConnection connection, ushort requestId, Role role, bool keepConnection, int maxBufferedInput)
    {
        Connection = connection;
        RequestId = requestId;
        Role = role;
        KeepConnection = keepConnection;
        var pipeOptions = new PipeOptions(
            pauseWriterThreshold: maxBufferedInput,
            resumeWriterThreshold: maxBufferedInput / 2,
            useSynchronizationContext: false);
        Stdin = new Pipe(pipeOptions);
        if (role == Role.Filter)
        {
            Data = new Pipe(pipeOptions);
        }
    }

    public FastCgiConnection Connection { get; }

    public ushort RequestId { get; }

    public Role Role { get; }

    public bool KeepConnection { get; }

    public Pipe Stdin { get; }

    public Pipe? Data { get; }

    public bool ParamsComplete { get; private set; }

    /// <summary>When BEGIN_REQUEST arrived (<see cref="Environment.TickCount64"/>), for the PARAMS deadline.</summary>
    public long BegunAt { get; } = Environment.TickCount64;

    public FastCgiRequest? Request { get; set; }

    /// <summary>The request's CGI meta-variables, decoded when PARAMS ended.</summary>
    public IReadOnlyDictionary<string, string> Environ { get; private set; } = new Dictionary<string, string>();

    /// <summary>Appends PARAMS content; false when the stream would pass <paramref name="maxBytes"/>.</summary>
    public bool AppendParams(in ReadOnlySequence<byte> content, int maxBytes)
    {
        var needed = _paramsLength + (int)content.Length;
        if (needed > maxBytes)
        {
            return false;
        }

        if (needed > _params.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, 1024));
            _params.AsSpan(0, _paramsLength).CopyTo(bigger);
            ReturnParams();
            _params = bigger;
        }

        content.CopyTo(_params.AsSpan(_paramsLength));
        _paramsLength = needed;
        return true;
    }

    /// <summary>
    /// Decodes the PARAMS stream. Pairs may straddle records (spec 3.4), so they are only parsed once the stream
    /// ended.
    /// </summary>
    public void CompleteParams(FastCgiServerLimits limits)
    {
        var decoder = new EnvironDecoder(new Dictionary<string, string>(32, StringComparer.Ordinal), limits, RequestId);
        NameValueReader.Parse(_params.AsSpan(0, _paramsLength), ref decoder);
        Environ = decoder.Environ;
        ParamsComplete = true;
        ReturnParams();
    }

    /// <summary>Ends both input streams, with an error when the request was aborted.</summary>
    public void CompleteInput(Exception? error)
    {
        Stdin.Writer.Complete(error);
        Data?.Writer.Complete(error);
    }

    public void ReturnParams()
    {
        if (_params.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_params);
        }

        _params = [];
        _paramsLength = 0;
    }

    /// <summary>Bytes of STDIN received so far, for <see cref="FastCgiServerLimits.MaxRequestBodyBytes"/>.</summary>
    public long BodyBytes { get; set; }

    /// <summary>Whether the request still waits for input from the web server (PARAMS, STDIN or DATA).</summary>
    public bool AwaitsInput => !ParamsComplete || !StdinComplete || (Data is not null && !DataComplete);

    public bool StdinComplete { get; set; }

    public bool DataComplete { get; set; }

    private readonly struct EnvironDecoder(Dictionary<string, string> environ, FastCgiServerLimits limits, ushort requestId) : INameValueHandler
    {
        public Dictionary<string, string> Environ => environ;

        public void OnPair(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
        {
            var longest = Math.Max(name.Length, value.Length);
            if (longest > limits.MaxParamLength)
            {
                ProtocolException.Throw(ProtocolRejectionReason.ParamTooLong, longest, limits.MaxParamLength);
            }

            if (environ.Count >= limits.MaxParamCount)
            {
                ProtocolException.Throw(ProtocolRejectionReason.TooManyParams, requestId, limits.MaxParamCount);
            }

            environ[System.Text.Encoding.UTF8.GetString(name)] = System.Text.Encoding.UTF8.GetString(value);
        }
    }
}
