using FastCgi.Server;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace FastCgi.Tests.Server;

/// <summary>The log a host writes when the application sets none: warnings and errors on standard error, a line each.</summary>
public sealed class StandardErrorLoggerFactoryTests
{
    [Fact]
    public void A_warning_is_one_line_with_the_time_the_level_and_the_category()
    {
        var (log, factory) = Create();
        Write(factory.CreateLogger("FastCgi.Server"), LogLevel.Warning, "Connection from 10.0.0.9 refused");
        Write(factory.CreateLogger("FastCgi.Connection"), LogLevel.Error, "the application failed");

        Assert.Equal(
            "2026-11-30T06:40:01.250Z warning FastCgi.Server: Connection from 10.0.0.9 refused\n"
                + "2026-11-30T06:40:01.250Z error FastCgi.Connection: the application failed\n",
            log.ToString());
    }

    [Fact]
    public void Below_a_warning_nothing_is_written()
    {
        var (log, factory) = Create();
        var logger = factory.CreateLogger("FastCgi.Server");
        Write(logger, LogLevel.Debug, "Connection 1 opened");
        Write(logger, LogLevel.Information, "Listening");

        Assert.Equal((false, false, true, true), (logger.IsEnabled(LogLevel.Debug), logger.IsEnabled(LogLevel.Information), logger.IsEnabled(LogLevel.Warning), logger.IsEnabled(LogLevel.Critical)));
        Assert.False(logger.IsEnabled(LogLevel.None));
        Assert.Equal("", log.ToString());
    }

    [Fact]
    public void An_exception_and_line_breaks_stay_on_the_line()
    {
        var (log, factory) = Create();
        Write(factory.CreateLogger("FastCgi.Server"), LogLevel.Critical, "two\nlines", new InvalidOperationException("broken\nstate"));

        Assert.Equal("2026-11-30T06:40:01.250Z critical FastCgi.Server: two lines (System.InvalidOperationException: broken state)\n", log.ToString());
    }

    [Fact]
    public void The_default_options_log_to_standard_error()
    {
        Assert.Same(StandardErrorLoggerFactory.Instance, new FastCgiServerOptions().LoggerFactory);
    }

    private static void Write(ILogger logger, LogLevel level, string message, Exception? exception = null) =>
        logger.Log(level, new EventId(1), message, exception, static (text, _) => text);

    private static (StringWriter Log, StandardErrorLoggerFactory Factory) Create()
    {
        var log = new StringWriter();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 30, 6, 40, 1, 250, TimeSpan.Zero));
        return (log, new StandardErrorLoggerFactory(log, time));
    }
}
