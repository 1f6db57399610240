using System.CommandLine;
using FastCgi.Tool;

// fcgi: a FastCGI client, load generator and development front-end (docs/fcgi-tool.md).
var root = new RootCommand("fcgi: talk to FastCGI applications. request sends one request, get-values asks FCGI_GET_VALUES.")
{
    RequestCommand.Create(),
    GetValuesCommand.Create(),
};
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
