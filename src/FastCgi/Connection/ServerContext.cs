using FastCgi.Protocol;
using Microsoft.Extensions.Logging;

namespace FastCgi.Connection;

/// <summary>
/// What every connection of one server shares: the handlers, the effective limits, the process-wide request
/// count, and the stop signal.
/// </summary>
internal sealed class ServerContext
{
    private readonly IReadOnlyDictionary<Role, Func<Handler>> _handlers;
    private int _activeRequests;
    private int _begunRequests;

    public ServerContext(IReadOnlyDictionary<Role, Func<Handler>> handlers, FastCgiServerOptions options, Action onMaxRequestsReached)
    {
        _handlers = handlers;
        Options = options;
        OnMaxRequestsReached = onMaxRequestsReached;
        var single = options.ThreadingLevel == ThreadingLevel.Sequential;
        Multiplexed = options.ThreadingLevel == ThreadingLevel.Multiplexed;
        MaxConnections = single ? 1 : FastCgi.Server.DescriptorLimit.CapConnections(options.Limits.MaxConnections);
        MaxConcurrentRequests = single ? 1 : options.Limits.MaxConcurrentRequests;
        MaxRequestsPerConnection = Multiplexed ? options.Limits.MaxRequestsPerConnection : 1;
        Logger = (options.LoggerFactory ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance).CreateLogger("FastCgi.Server");
        GetValuesAnswers = BuildGetValuesAnswers();
    }

    public FastCgiServerOptions Options { get; }

    public ILogger Logger { get; }

    public bool Multiplexed { get; }

    public int MaxConnections { get; }

    public int MaxConcurrentRequests { get; }

    public int MaxRequestsPerConnection { get; }

    /// <summary>The FCGI_GET_VALUES answers: the limits enforced, overridden by jonpy's <c>params</c>.</summary>
    public IReadOnlyDictionary<string, string> GetValuesAnswers { get; }

    /// <summary>Set once the server stops taking new requests (<see cref="FastCgiServer.Exit"/> or max_requests).</summary>
    public volatile bool Stopping;

    private Action OnMaxRequestsReached { get; }

    public int ActiveRequests => Volatile.Read(ref _activeRequests);

    public Func<Handler>? GetHandlerFactory(Role role) => _handlers.GetValueOrDefault(role);

    /// <summary>Claims a process-wide request slot; false when FCGI_MAX_REQS requests are running or the server is stopping.</summary>
    public bool TryBeginRequest()
    {
        if (Stopping)
        {
            return false;
        }

        if (Interlocked.Increment(ref _activeRequests) > MaxConcurrentRequests)
        {
            Interlocked.Decrement(ref _activeRequests);
            return false;
        }

        var maxRequests = Options.MaxRequests;
        if (maxRequests > 0 && Interlocked.Increment(ref _begunRequests) >= maxRequests)
        {
            // jonpy's fcgi.Server: "it will exit after that many requests have been initiated".
            Stopping = true;
            OnMaxRequestsReached();
        }

        return true;
    }

    public void EndRequest() => Interlocked.Decrement(ref _activeRequests);

    private Dictionary<string, string> BuildGetValuesAnswers()
    {
        var answers = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [FastCgiConstants.MaxConns] = MaxConnections.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [FastCgiConstants.MaxReqs] = MaxConcurrentRequests.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [FastCgiConstants.MpxsConns] = Multiplexed ? "1" : "0",
        };
        foreach (var (name, value) in Options.Params ?? new Dictionary<string, string>())
        {
            answers[name] = value;
        }

        return answers;
    }
}
