namespace FastCgi.AspNetCore;

/// <summary>How the process was started, which decides the server (the convention of <c>UseIISIntegration</c>).</summary>
internal enum FastCgiStartMode
{
    /// <summary>Not by a web server: the application keeps its own server (Kestrel).</summary>
    Kestrel,

    /// <summary>As a FastCGI application: systemd passed it sockets (LISTEN_FDS), fd 0 is a listening socket (spec 2.2), or a listen address is configured.</summary>
    FastCgi,

    /// <summary>As a CGI program: <c>GATEWAY_INTERFACE</c> is set and fd 0 is not a socket (RFC 3875 4.1.4); one request.</summary>
    Cgi,
}

/// <summary>Finds the <see cref="FastCgiStartMode"/> of this process.</summary>
internal static class FastCgiStartModeDetector
{
    /// <summary>The mode for a configured listen address (or none).</summary>
    public static FastCgiStartMode Detect(string? listen)
    {
        if (listen is not null || FastCgiHost.IsStartedAsFastCgi())
        {
            return FastCgiStartMode.FastCgi;
        }

        return string.IsNullOrEmpty(Environment.GetEnvironmentVariable("GATEWAY_INTERFACE")) ? FastCgiStartMode.Kestrel : FastCgiStartMode.Cgi;
    }
}
