using Microsoft.Extensions.Logging;

namespace FastCgi.Tests.Support;

/// <summary>An <see cref="ILoggerFactory"/> that keeps every formatted line, at every level.</summary>
internal sealed class CapturingLoggerFactory : ILoggerFactory
{
    private readonly List<string> _lines = [];
    private readonly List<(string Text, TaskCompletionSource<string> Logged)> _waiting = [];

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    /// <summary>
    /// The first line that contains <paramref name="text"/>, once it is logged (or at once if it was), within
    /// <see cref="Bounded.Limit"/>; past it, the failure shows every line logged meanwhile.
    /// </summary>
    public Task<string> LineAsync(string text)
    {
        var logged = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lines)
        {
            if (_lines.Find(line => line.Contains(text, StringComparison.Ordinal)) is { } line)
            {
                return Task.FromResult(line);
            }

            _waiting.Add((text, logged));
        }

        return WithinAsync(logged.Task, text);
    }

    /// <summary>Every line logged so far, one per line, to show in a failure.</summary>
    public override string ToString() => string.Join('\n', Lines);

    private async Task<string> WithinAsync(Task<string> logged, string text)
    {
        try
        {
            return await logged.Within($"a log line with \"{text}\"");
        }
        catch (TimeoutException timeout)
        {
            throw new TimeoutException($"{timeout.Message} The log:\n{this}", timeout);
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerFactory factory, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var line = $"{logLevel} {category}: {formatter(state, exception)}";
            lock (factory._lines)
            {
                factory._lines.Add(line);
                factory._waiting.RemoveAll(waiting => line.Contains(waiting.Text, StringComparison.Ordinal) && waiting.Logged.TrySetResult(line));
            }
        }
    }
}
