using FastCgi.Cgi;
using FastCgi.Server;
using Xunit;

namespace FastCgi.Tests.Options;

/// <summary>Every default of <see cref="FastCgiServerOptions"/>, and the values it refuses when they are set.</summary>
public sealed class FastCgiServerOptionsTests
{
    public static TheoryData<string, object?, Func<FastCgiServerOptions, object?>> Defaults => new()
    {
        { nameof(FastCgiServerOptions.ThreadingLevel), ThreadingLevel.PerConnection, o => o.ThreadingLevel },
        { nameof(FastCgiServerOptions.MaxRequests), 0, o => o.MaxRequests },
        { nameof(FastCgiServerOptions.Params), null, o => o.Params },
        { nameof(FastCgiServerOptions.Listen), null, o => o.Listen },
        {
            nameof(FastCgiServerOptions.UnixSocketMode),
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite,
            o => o.UnixSocketMode
        },
        { nameof(FastCgiServerOptions.Limits), FastCgiServerLimits.Default, o => o.Limits },
        { nameof(FastCgiServerOptions.RequestLimits), RequestLimits.Default, o => o.RequestLimits },
        { nameof(FastCgiServerOptions.ShutdownTimeout), TimeSpan.FromSeconds(30), o => o.ShutdownTimeout },
        { nameof(FastCgiServerOptions.HandleSignals), true, o => o.HandleSignals },
        { nameof(FastCgiServerOptions.LoggerFactory), StandardErrorLoggerFactory.Instance, o => o.LoggerFactory },
    };

    public static TheoryData<string, Type, Func<FastCgiServerOptions>> Refused => new()
    {
        { nameof(FastCgiServerOptions.ThreadingLevel), typeof(ArgumentOutOfRangeException), () => new() { ThreadingLevel = (ThreadingLevel)3 } },
        { nameof(FastCgiServerOptions.MaxRequests), typeof(ArgumentOutOfRangeException), () => new() { MaxRequests = -1 } },
        { nameof(FastCgiServerOptions.Listen), typeof(ArgumentException), () => new() { Listen = "" } },
        { nameof(FastCgiServerOptions.Listen), typeof(ArgumentException), () => new() { Listen = "  " } },
        { nameof(FastCgiServerOptions.UnixSocketMode), typeof(ArgumentOutOfRangeException), () => new() { UnixSocketMode = (UnixFileMode)0x1000 } },
        { nameof(FastCgiServerOptions.Limits), typeof(ArgumentNullException), () => new() { Limits = null! } },
        { nameof(FastCgiServerOptions.RequestLimits), typeof(ArgumentNullException), () => new() { RequestLimits = null! } },
        { nameof(FastCgiServerOptions.ShutdownTimeout), typeof(ArgumentOutOfRangeException), () => new() { ShutdownTimeout = TimeSpan.FromTicks(-1) } },
    };

    [Theory]
    [MemberData(nameof(Defaults))]
    public void Default_is_as_documented(string name, object? expected, Func<FastCgiServerOptions, object?> read)
    {
        Assert.Equal(expected, read(new FastCgiServerOptions()));
        Assert.NotNull(name);
    }

    [Theory]
    [MemberData(nameof(Refused))]
    public void Refused_when_set(string name, Type exception, Func<FastCgiServerOptions> create)
    {
        var error = Assert.Throws(exception, create);

        Assert.Equal(name, ((ArgumentException)error).ParamName);
    }

    [Fact]
    public void The_edges_are_accepted()
    {
        var options = new FastCgiServerOptions
        {
            ThreadingLevel = ThreadingLevel.Multiplexed,
            MaxRequests = 0,
            Listen = null,
            UnixSocketMode = (UnixFileMode)0xFFF,
            ShutdownTimeout = TimeSpan.Zero,
        };

        Assert.Equal(TimeSpan.Zero, options.ShutdownTimeout);
    }

    [Theory]
    [InlineData("--max-connections", "0")]
    [InlineData("--input-timeout", "0")]
    [InlineData("--listen", "")]
    [InlineData("--unix-socket-mode", "17777")]
    public void The_command_line_refuses_what_the_options_refuse(string option, string value)
    {
        Assert.ThrowsAny<ArgumentException>(() => FastCgiServerOptions.FromCommandLine([option, value]));
    }

    [Theory]
    [InlineData(new[] { "--help" }, "Unknown option '--help'.")]
    [InlineData(new[] { "9000" }, "Unknown option '9000'.")]
    [InlineData(new[] { "--listen" }, "--listen needs a value.")]
    [InlineData(new[] { "--threading-level", "3" }, "--threading-level must be 0, 1 or 2, not '3'.")]
    [InlineData(new[] { "--max-requests", "-1" }, "--max-requests must be a non-negative integer, not '-1'.")]
    [InlineData(new[] { "--unix-socket-mode", "rw" }, "--unix-socket-mode must be an octal mode such as 660, not 'rw'.")]
    [InlineData(new[] { "--unix-socket-mode", "0668" }, "--unix-socket-mode must be an octal mode such as 660, not '0668'.")]
    [InlineData(new[] { "--unix-socket-mode", "" }, "--unix-socket-mode must be an octal mode such as 660, not ''.")]
    public void A_command_line_error_says_what_is_wrong_in_words_a_program_can_print(string[] args, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => FastCgiServerOptions.FromCommandLine(args));

        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void The_unix_socket_mode_is_read_as_octal()
    {
        Assert.Equal((UnixFileMode)0x1B0, FastCgiServerOptions.FromCommandLine(["--unix-socket-mode", "660"]).UnixSocketMode);
        Assert.Equal((UnixFileMode)0xFFF, FastCgiServerOptions.FromCommandLine(["--unix-socket-mode", "7777"]).UnixSocketMode);
    }

    [Fact]
    public void The_help_names_every_option_the_command_line_reads()
    {
        foreach (var option in (string[])["--listen", "--threading-level", "--max-requests", "--gzip", "--unix-socket-mode", "--max-connections",
            "--max-concurrent-requests", "--max-request-body-bytes", "--input-timeout", "--write-timeout", "--shutdown-timeout",
            "--status-path", "--ping-path", "--ping-response"])
        {
            Assert.Contains("  " + option + " ", FastCgiServerOptions.CommandLineHelp, StringComparison.Ordinal);
            Assert.NotEqual("Unknown option '" + option + "'.", Record.Exception(() => FastCgiServerOptions.FromCommandLine([option, option.EndsWith("-path", StringComparison.Ordinal) ? "/1" : "1"]))?.Message);
        }
    }

    [Fact]
    public void The_status_and_ping_pages_are_off_by_default_and_the_ping_says_pong()
    {
        var options = new FastCgiServerOptions();

        Assert.Null(options.StatusPath);
        Assert.Null(options.PingPath);
        Assert.Equal("pong", options.PingResponse);
    }

    [Fact]
    public void The_command_line_sets_the_status_and_ping_pages()
    {
        var options = FastCgiServerOptions.FromCommandLine(["--status-path", "/status", "--ping-path", "/ping", "--ping-response", "ok"]);

        Assert.Equal(("/status", "/ping", "ok"), (options.StatusPath, options.PingPath, options.PingResponse));
    }

    [Theory]
    [InlineData("status")]
    [InlineData("")]
    [InlineData("/status?json")]
    [InlineData("/status#top")]
    [InlineData("/my status")]
    [InlineData("/status\n")]
    public void A_page_path_that_is_not_a_url_path_is_refused_where_it_is_set(string path)
    {
        var status = Assert.Throws<ArgumentException>(() => new FastCgiServerOptions { StatusPath = path });
        var ping = Assert.Throws<ArgumentException>(() => new FastCgiServerOptions { PingPath = path });

        Assert.Equal(("StatusPath", "PingPath"), (status.ParamName, ping.ParamName));
        Assert.Throws<ArgumentNullException>(() => new FastCgiServerOptions { PingResponse = null! });
    }

    [Fact]
    public void A_host_refuses_a_status_and_a_ping_page_at_one_path()
    {
        var options = new FastCgiServerOptions { StatusPath = "/health", PingPath = "/health" };

        var error = Assert.Throws<ArgumentException>(() => new FastCgiServer(() => null!, options));

        Assert.StartsWith("The status and ping pages are both at '/health'.", error.Message, StringComparison.Ordinal);
    }
}
