using Echo;
using FastCgi;
using FastCgi.Protocol;

// The echo sample (its contract: README.md beside this file): one program for every role, under FastCGI or plain CGI.
// Run as CGI, the command line is a client's query words (RFC 3875 section 4.4), which FromCommandLine leaves alone.
if (args is ["--help"] or ["-h"] && Environment.GetEnvironmentVariable("GATEWAY_INTERFACE") is null)
{
    Console.Out.Write($"Usage: Echo [options]\nThe echo sample: a FastCGI (or CGI) application for every role.\n\nOptions:\n{FastCgiServerOptions.CommandLineHelp}");
    return 0;
}

FastCgiServerOptions options;
try
{
    options = FastCgiServerOptions.FromCommandLine(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"Echo: {e.Message} Try --help.");
    return 2;
}

var handlers = new Dictionary<Role, Func<Handler>>
{
    [Role.Responder] = () => new EchoResponder(),
    [Role.Authorizer] = () => new EchoAuthorizer(),
    [Role.Filter] = () => new EchoFilter(),
};
await new FastCgiServer(handlers, options).RunAsync();
return 0;
