using System.IO.Pipelines;
using FastCgi.Connection;
using FastCgi.Protocol;
using Xunit;

namespace FastCgi.Tests.Connection;

/// <summary>
/// A <see cref="FastCgiRequest"/> hands out its context's abort token rather than a source of its own: the token is
/// the context's, an abort still sets <see cref="Request.Aborted"/> before any callback runs, a lost connection found
/// on write fires it, and nothing reaches the request once it is disposed.
/// </summary>
public sealed class FastCgiRequestAbortTests
{
    [Fact]
    public void The_request_token_is_the_context_token()
    {
        var context = NewContext(new Pipe().Writer);
        using var request = new FastCgiRequest(context);

        Assert.Equal(context.Aborted, request.RequestAborted);
        Assert.True(request.RequestAborted.CanBeCanceled);
    }

    [Fact]
    public void A_web_server_abort_sets_Aborted_before_the_callbacks_run()
    {
        var context = NewContext(new Pipe().Writer);
        using var request = new FastCgiRequest(context);
        var seen = new List<AbortReason>();
        using var registration = request.RequestAborted.Register(() => seen.Add(request.Aborted));

        context.Abort(AbortReason.WebServer);

        Assert.Equal([AbortReason.WebServer], seen);
        Assert.Equal(AbortReason.WebServer, request.Aborted);
    }

    [Fact]
    public void A_request_made_over_an_aborted_context_starts_aborted()
    {
        var context = NewContext(new Pipe().Writer);
        context.Abort(AbortReason.ConnectionLost);

        using var request = new FastCgiRequest(context);

        Assert.Equal(AbortReason.ConnectionLost, request.Aborted);
        Assert.True(request.RequestAborted.IsCancellationRequested);
    }

    [Fact]
    public void A_lost_connection_found_on_write_fires_the_token_and_aborts_the_context()
    {
        var transport = new Pipe();
        var context = NewContext(transport.Writer);
        using var request = new FastCgiRequest(context);
        var seen = new List<AbortReason>();
        using var registration = request.RequestAborted.Register(() => seen.Add(request.Aborted));
        transport.Reader.Complete();
        request.Write("lost");

        request.Flush();

        Assert.Equal([AbortReason.ConnectionLost], seen);
        Assert.Equal(AbortReason.ConnectionLost, request.Aborted);
        Assert.Equal(AbortReason.ConnectionLost, context.AbortReason);
    }

    [Fact]
    public void An_abort_after_Dispose_reaches_neither_the_request_nor_its_token()
    {
        var context = NewContext(new Pipe().Writer);
        var request = new FastCgiRequest(context);
        request.Dispose();

        context.Abort(AbortReason.WebServer);

        Assert.Equal(AbortReason.None, request.Aborted);
        Assert.Equal(CancellationToken.None, request.RequestAborted);
    }

    private static FastCgiRequestContext NewContext(PipeWriter transport)
    {
        // No connection behind it: these requests neither run nor end, they only write and abort.
        var context = new FastCgiRequestContext(null!, new ConnectionOutput(transport, TimeProvider.System), new PipeOptions());
        context.Begin(1, Role.Responder, keepConnection: true);
        return context;
    }
}
