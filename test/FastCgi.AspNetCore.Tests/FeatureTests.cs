using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using FastCgi.AspNetCore.Tests.Support;
using FastCgi.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Xunit;

namespace FastCgi.AspNetCore.Tests;

/// <summary>The server's features as an application sees them, through real nginx.</summary>
public sealed class FeatureTests
{
    private static readonly ConcurrentQueue<string> Completed = new();

    // Set by the last OnCompleted callback: they run after the response has gone, so the web server may already
    // send the next request (on another kept connection) while they run.
    private static readonly TaskCompletionSource CompletedRan = new(TaskCreationOptions.RunContinuationsAsynchronously);

    [Fact]
    public async Task Features_behave_as_on_Kestrel_and_what_FastCgi_cannot_do_is_refused()
    {
        var file = Path.GetTempFileName();
        await File.WriteAllTextAsync(file, "0123456789abcdef");
        var (app, port) = await InProcessApp.StartAsync(Map);
        await using (app)
        {
            await using var nginx = await NginxServer.StartAsync("nginx-aspnetcore.conf", new Dictionary<string, string> { ["127.0.0.1:9000"] = "127.0.0.1:" + WebServerProcess.Text(port) });
            using var client = new HttpClient { BaseAddress = nginx.BaseUri, Timeout = TimeSpan.FromSeconds(30) };

            using (var response = await client.PostAsync("/features?x=1", new StringContent("body!")))
            {
                var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
                Assert.Equal(
                    "Responder False True True False False False True 30000000 5 body! /features ?x=1 /features?x=1",
                    string.Join(' ', json.EnumerateArray().Select(value => value.ToString())));
            }

            // OnStarting callbacks run last registered first, before the headers; OnCompleted after the response.
            using (var response = await client.GetAsync("/callbacks"))
            {
                Assert.Equal("second,first", string.Join(',', response.Headers.GetValues("X-Starting")));
                Assert.Equal("callbacks", await response.Content.ReadAsStringAsync());
            }

            Assert.Equal("completed second,completed first", await client.GetStringAsync("/completed"));

            // The body past MaxRequestBodySize: 413, as Kestrel answers.
            using (var response = await client.PostAsync("/limited", new ByteArrayContent(new byte[11])))
            {
                Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
            }

            using (var response = await client.PostAsync("/limited", new ByteArrayContent(new byte[10])))
            {
                Assert.Equal("10", await response.Content.ReadAsStringAsync());
            }

            // Synchronous I/O is refused unless allowed.
            using (var response = await client.GetAsync("/sync?allow=false"))
            {
                Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
            }

            Assert.Equal("sync", await client.GetStringAsync("/sync?allow=true"));
            Assert.Equal("0123456789abcdef"[3..9], await client.GetStringAsync("/sendfile?path=" + Uri.EscapeDataString(file)));
            Assert.Equal("started", await client.GetStringAsync("/start"));

            // An exception after the response started: the web server sees the response broken off.
            var broken = await Assert.ThrowsAnyAsync<HttpRequestException>(() => client.GetStringAsync("/fail-after-start"));
            Assert.NotNull(broken);
            Assert.Contains("upstream prematurely closed", await nginx.WaitForErrorLogAsync("upstream prematurely closed"), StringComparison.Ordinal);
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => client.GetStringAsync("/abort-after-start"));

            // The server works on after both.
            Assert.Equal("started", await client.GetStringAsync("/start"));
        }

        File.Delete(file);
    }

    private static void Map(WebApplication app)
    {
        app.MapPost("/features", async (HttpContext context) =>
        {
            var fastCgi = context.Features.Get<IFastCgiFeature>()!;
            var body = await new StreamReader(context.Request.Body).ReadToEndAsync();
            return Results.Json(new object?[]
            {
                fastCgi.Role.ToString(), fastCgi.IsCgi, fastCgi.RequestId > 0, fastCgi.RawParams.Length > 0,
                context.Response.SupportsTrailers(), context.WebSockets.IsWebSocketRequest, context.Features.Get<IHttpUpgradeFeature>()!.IsUpgradableRequest,
                context.Features.Get<IHttpRequestBodyDetectionFeature>()!.CanHaveBody, context.Features.Get<IHttpMaxRequestBodySizeFeature>()!.MaxRequestBodySize,
                context.Request.ContentLength, body, context.Request.Path.Value, context.Request.QueryString.Value,
                context.Features.Get<IHttpRequestFeature>()!.RawTarget,
            });
        });
        app.MapGet("/callbacks", (HttpContext context) =>
        {
            context.Response.OnStarting(() => { context.Response.Headers.Append("X-Starting", "first"); return Task.CompletedTask; });
            context.Response.OnStarting(() => { context.Response.Headers.Append("X-Starting", "second"); return Task.CompletedTask; });
            context.Response.OnCompleted(() => { Completed.Enqueue("completed first"); CompletedRan.TrySetResult(); return Task.CompletedTask; });
            context.Response.OnCompleted(() => { Completed.Enqueue("completed second"); return Task.CompletedTask; });
            return "callbacks";
        });
        app.MapGet("/completed", async () =>
        {
            await CompletedRan.Task.WaitAsync(TimeSpan.FromSeconds(10));
            return string.Join(',', Completed);
        });
        app.MapPost("/limited", async (HttpContext context) =>
        {
            context.Features.Get<IHttpMaxRequestBodySizeFeature>()!.MaxRequestBodySize = 10;
            var read = 0L;
            while (true)
            {
                var result = await context.Request.BodyReader.ReadAsync();
                read += result.Buffer.Length;
                context.Request.BodyReader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    return read.ToString(System.Globalization.CultureInfo.InvariantCulture);
                }
            }
        });
        app.MapGet("/sync", (HttpContext context, bool allow) =>
        {
            context.Features.Get<IHttpBodyControlFeature>()!.AllowSynchronousIO = allow;
            context.Response.Body.Write("sync"u8);
        });
        app.MapGet("/sendfile", (HttpContext context, string path) => context.Response.SendFileAsync(path, 3, 6));
        app.MapGet("/start", async (HttpContext context) =>
        {
            await context.Response.StartAsync();
            await context.Response.BodyWriter.WriteAsync(Encoding.ASCII.GetBytes("started"));
            await context.Response.CompleteAsync();
        });
        app.MapGet("/fail-after-start", async (HttpContext context) =>
        {
            await context.Response.WriteAsync("partial\n");
            await context.Response.Body.FlushAsync();
            throw new InvalidOperationException("after the start");
        });
        app.MapGet("/abort-after-start", async (HttpContext context) =>
        {
            await context.Response.WriteAsync("partial\n");
            await context.Response.Body.FlushAsync();
            context.Abort();
        });
    }
}
