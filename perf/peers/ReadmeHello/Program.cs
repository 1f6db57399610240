using FastCgi;

// The README's "Hello, world" as a benchmark peer: its synchronous Process handler, or with --async the same
// response from ProcessAsync, so that the benchmark compares the two ways of writing a handler side by side.
var useAsync = args.Contains("--async");
var options = FastCgiServerOptions.FromCommandLine([.. args.Where(arg => arg != "--async")]);
new FastCgiServer(useAsync ? () => new AsyncHello() : () => new Hello(), options).Run();

internal sealed class Hello : Handler
{
    public override void Process(Request request)
    {
        request.SetHeader("Content-Type", "text/plain");
        request.Write("Hello, world!\n");
    }
}

internal sealed class AsyncHello : Handler
{
    public override ValueTask ProcessAsync(Request request, CancellationToken cancellationToken)
    {
        request.SetHeader("Content-Type", "text/plain");
        request.Write("Hello, world!\n");
        return ValueTask.CompletedTask;
    }
}
