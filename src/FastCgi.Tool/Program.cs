using System.CommandLine;
using FastCgi.Tool;

// fcgi: a FastCGI client, load generator and development front-end (docs/fcgi-tool.md).
var root = new RootCommand("fcgi: talk to FastCGI applications. request sends one request, get-values asks FCGI_GET_VALUES, bench loads an application, serve puts a development HTTP front-end before it (not a production web server).")
{
    RequestCommand.Create(),
    GetValuesCommand.Create(),
    BenchCommand.Create(),
    ServeCommand.Create(),
};
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
