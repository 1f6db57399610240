using System.Text;
using FastCgi.AspNetCore.Tests.Support;
using FastCgi.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Xunit;

namespace FastCgi.AspNetCore.Tests;

/// <summary>
/// When the response leaves, and what one request leaves to the next on a kept connection, through the adapter
/// on a real connection in memory.
/// </summary>
public sealed class ResponseSendTests
{
    private static readonly TaskCompletionSource Gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

    [Fact]
    public async Task A_whole_response_flushed_by_WriteAsync_leaves_with_END_REQUEST_in_one_send()
    {
        await using var adapter = await InMemoryAdapter.StartAsync(Map);
        await adapter.SendAsync(FcgiRecords.Request(1, InMemoryAdapter.NginxGet("/text"), []));
        var records = await adapter.ReadUntilAsync(FcgiRecords.EndRequest);

        Assert.Equal("Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nHello\n", Stdout(records));
        Assert.Equal(1, adapter.Sends);
    }

    [Fact]
    public async Task A_held_response_leaves_as_soon_as_the_application_waits()
    {
        await using var adapter = await InMemoryAdapter.StartAsync(Map);
        await adapter.SendAsync(FcgiRecords.Request(1, InMemoryAdapter.NginxGet("/then-wait"), []));

        // The whole body arrives while the application still waits; END_REQUEST only once it returns.
        var body = await adapter.ReadUntilAsync(FcgiRecords.Stdout);
        Assert.Equal("Status: 200 OK\r\nContent-Length: 5\r\n\r\nwhole", Stdout(body));
        Gate.SetResult();
        var end = await adapter.ReadUntilAsync(FcgiRecords.EndRequest);
        Assert.Equal([FcgiRecords.Stdout, FcgiRecords.EndRequest], end.Select(record => record.Type));
        Assert.Empty(end[0].Content);
        Assert.Equal(2, adapter.Sends);
    }

    [Fact]
    public async Task A_partial_flush_is_sent_at_once()
    {
        await using var adapter = await InMemoryAdapter.StartAsync(Map);
        await adapter.SendAsync(FcgiRecords.Request(1, InMemoryAdapter.NginxGet("/partial"), []));
        var records = await adapter.ReadUntilAsync(FcgiRecords.EndRequest);

        // Content-Length 6 and 3 bytes flushed: the flush is sent, then the rest with END_REQUEST.
        Assert.Equal("Status: 200 OK\r\nContent-Length: 6\r\n\r\nabcdef", Stdout(records));
        Assert.Equal(2, adapter.Sends);
    }

    [Fact]
    public async Task The_next_request_on_the_connection_sees_nothing_the_last_one_set()
    {
        await using var adapter = await InMemoryAdapter.StartAsync(Map);
        await adapter.SendAsync(FcgiRecords.Request(1, InMemoryAdapter.NginxGet("/set"), []));
        Assert.StartsWith("Status: 404 Not Found\r\nX-Set: 1\r\n", Stdout(await adapter.ReadUntilAsync(FcgiRecords.EndRequest)), StringComparison.Ordinal);

        var check = FcgiRecords.Request(1, InMemoryAdapter.NginxGet("/check?q=1").Append(new("QUERY_STRING", "q=1")).Append(new("HTTP_X_ONLY_HERE", "yes")), []);
        await adapter.SendAsync(check);
        Assert.Equal(
            "Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 46\r\n\r\n/check ?q=1 yes feature:False item:False body:",
            Stdout(await adapter.ReadUntilAsync(FcgiRecords.EndRequest)));

        await adapter.SendAsync(FcgiRecords.Request(1, InMemoryAdapter.NginxGet("/check"), "posted"u8.ToArray()));
        Assert.Equal(
            "Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 49\r\n\r\n/check  none feature:False item:False body:posted",
            Stdout(await adapter.ReadUntilAsync(FcgiRecords.EndRequest)));
    }

    private static string Stdout(List<FcgiRecord> records) =>
        Encoding.ASCII.GetString([.. records.Where(record => record.Type == FcgiRecords.Stdout).SelectMany(record => record.Content)]);

    private static void Map(WebApplication app)
    {
        app.MapGet("/text", () => Results.Text("Hello\n", "text/plain"));
        app.MapGet("/then-wait", async (HttpContext context) =>
        {
            context.Response.ContentLength = 5;
            await context.Response.WriteAsync("whole");
            await Gate.Task;
        });
        app.MapGet("/partial", async (HttpContext context) =>
        {
            context.Response.ContentLength = 6;
            await context.Response.WriteAsync("abc");
            await context.Response.WriteAsync("def");
        });
        app.MapGet("/set", (HttpContext context) =>
        {
            context.Response.StatusCode = 404;
            context.Response.Headers["X-Set"] = "1";
            context.Features.Set(new Marker());
            context.Items["item"] = 1;
        });
        app.MapMethods("/check", ["GET"], async (HttpContext context) =>
        {
            var body = await new StreamReader(context.Request.Body).ReadToEndAsync();
            var header = context.Request.Headers["X-Only-Here"] is { Count: > 0 } value ? value.ToString() : "none";
            var text = $"{context.Request.Path} {context.Request.QueryString} {header} feature:{context.Features.Get<Marker>() is not null} item:{context.Items.ContainsKey("item")} body:{body}";
            return Results.Text(text, "text/plain");
        });
    }

    private sealed class Marker;
}
