using Echo;
using FastCgi;
using FastCgi.Protocol;

// The echo sample (its contract: README.md beside this file): one program for every role, under FastCGI or plain CGI.
var options = FastCgiServerOptions.FromCommandLine(args);
var handlers = new Dictionary<Role, Func<Handler>>
{
    [Role.Responder] = () => new EchoResponder(),
    [Role.Authorizer] = () => new EchoAuthorizer(),
    [Role.Filter] = () => new EchoFilter(),
};
await new FastCgiServer(handlers, options).RunAsync();
