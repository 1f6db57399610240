using System.Globalization;
using Microsoft.Extensions.Logging;

namespace FastCgi.Server;

/// <summary>
/// The host's log when the application sets none: warnings and errors, one line each, on standard error, which is the
/// web server's error log under CGI and mod_fcgid, and the service manager's (or spawn-fcgi's) log otherwise, as
/// php-fpm's error log is. Lines are whole even when threads log at once.
/// </summary>
internal sealed class StandardErrorLoggerFactory(TextWriter? writer = null, TimeProvider? time = null) : ILoggerFactory
{
    /// <summary>Warnings and errors to the process's standard error.</summary>
    public static StandardErrorLoggerFactory Instance { get; } = new();

    private TextWriter Writer => writer ?? Console.Error;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException("The standard error log takes no providers; set FastCgiHostOptions.LoggerFactory to a factory of your own instead.");

    public void Dispose()
    {
        // Standard error is the process's, not this factory's to close.
    }

    private void Write(string category, LogLevel level, string message, Exception? exception)
    {
        var now = (time ?? TimeProvider.System).GetUtcNow();
        var line = string.Create(CultureInfo.InvariantCulture, $"{now:yyyy-MM-ddTHH:mm:ss.fffZ} {Name(level)} {category}: {message}");
        if (exception is not null)
        {
            line += " (" + exception.GetType().FullName + ": " + exception.Message + ")";
        }

        // One write of the line and its newline: Console.Error is synchronized, so lines of different threads never mix.
        Writer.Write(line.ReplaceLineEndings(" ") + "\n");
    }

    private static string Name(LogLevel level) => level switch
    {
        LogLevel.Warning => "warning",
        LogLevel.Error => "error",
        _ => "critical",
    };

    private sealed class Logger(StandardErrorLoggerFactory factory, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel is >= LogLevel.Warning and < LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                factory.Write(category, logLevel, formatter(state, exception), exception);
            }
        }
    }
}
