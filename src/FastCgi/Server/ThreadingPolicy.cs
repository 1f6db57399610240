using System.Globalization;
using Microsoft.Extensions.Logging;

namespace FastCgi.Server;

/// <summary>
/// The one place that turns jonpy's <c>threading_level</c> into behaviour: how many connections and requests run at once, whether a connection multiplexes, where a
/// request starts, and what GET_VALUES answers (spec 4.1). Synchronous handlers get threads of their own whatever
/// the level (<c>Handler.Process</c>), and <see cref="ThreadPoolGuard"/> keeps handlers that block from starving
/// the thread pool.
/// </summary>
internal sealed class ThreadingPolicy
{
    public ThreadingPolicy(FastCgiHostOptions options)
    {
        var single = options.ThreadingLevel == ThreadingLevel.Sequential;
        Multiplexed = options.ThreadingLevel == ThreadingLevel.Multiplexed;
        SequentialConnections = single;
        MaxConnections = single ? 1 : DescriptorLimit.CapConnections(options.Limits.MaxConnections);
        MaxConcurrentRequests = single ? 1 : options.Limits.MaxConcurrentRequests;
        MaxRequestsPerConnection = Multiplexed ? options.Limits.MaxRequestsPerConnection : 1;
    }

    /// <summary>Level 2: requests on one connection run concurrently (FCGI_MPXS_CONNS).</summary>
    public bool Multiplexed { get; }

    /// <summary>Level 0: the host serves one connection, then accepts the next.</summary>
    public bool SequentialConnections { get; }

    /// <summary>FCGI_MAX_CONNS: 1 at level 0, else the limit capped by the open-file limit.</summary>
    public int MaxConnections { get; }

    /// <summary>FCGI_MAX_REQS: 1 at level 0, else the limit.</summary>
    public int MaxConcurrentRequests { get; }

    /// <summary>Requests on one connection: the limit at level 2, else 1.</summary>
    public int MaxRequestsPerConnection { get; }

    /// <summary>The settings every connection of a host shares.</summary>
    public FastCgiConnectionSettings ConnectionSettings(FastCgiHostOptions options, ILogger logger, IRequestAdmission admission, IServerPages? pages = null) => new()
    {
        MaxRequestsPerConnection = MaxRequestsPerConnection,
        Multiplexed = Multiplexed,
        MaxParamsBytes = options.Limits.MaxParamsBytes,
        MaxParamCount = options.Limits.MaxParamCount,
        MaxParamLength = options.Limits.MaxParamLength,
        MaxBufferedInputBytes = options.Limits.MaxBufferedInputBytes,
        MaxRequestBodyBytes = options.Limits.MaxRequestBodyBytes,
        InputTimeout = options.Limits.InputTimeout,
        WriteTimeout = options.Limits.WriteTimeout,
        TimeProvider = options.TimeProvider,
        Logger = logger,
        GetValuesAnswers = GetValuesAnswers(options.Params),
        Admission = admission,
        ServerPages = pages,
    };

    /// <summary>The FCGI_GET_VALUES answers: the limits enforced, overridden by jonpy's <c>params</c>.</summary>
    private Dictionary<string, string> GetValuesAnswers(IReadOnlyDictionary<string, string>? overrides)
    {
        var answers = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [FastCgiConstants.MaxConns] = MaxConnections.ToString(CultureInfo.InvariantCulture),
            [FastCgiConstants.MaxReqs] = MaxConcurrentRequests.ToString(CultureInfo.InvariantCulture),
            [FastCgiConstants.MpxsConns] = Multiplexed ? "1" : "0",
        };
        foreach (var (name, value) in overrides ?? new Dictionary<string, string>())
        {
            answers[name] = value;
        }

        return answers;
    }
}
