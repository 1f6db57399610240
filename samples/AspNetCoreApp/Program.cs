using System.Security.Cryptography;
using FastCgi.AspNetCore;

var builder = WebApplication.CreateBuilder(args);

// Over FastCGI when a web server or systemd started the process (sockets from systemd's socket activation, fd 0 a
// listening socket, or FastCgi:Listen set), as CGI
// when GATEWAY_INTERFACE is set, else on Kestrel: the same build for `dotnet run` and for production.
builder.WebHost.UseFastCgi();

var app = builder.Build();
var log = app.Logger;

app.MapGet("/", () => Results.Text("Hello from ASP.NET Core\n", "text/plain"));

app.MapGet("/json", () => Results.Json(new { message = "Hello", numbers = Sample.Numbers, nested = new { ok = true } }));

app.MapPost("/form", async (HttpContext context) =>
{
    var form = await context.Request.ReadFormAsync(context.RequestAborted);
    var fields = form.OrderBy(field => field.Key, StringComparer.Ordinal).ToDictionary(field => field.Key, field => field.Value.ToArray());
    var files = new List<object>();
    foreach (var file in form.Files)
    {
        await using var stream = file.OpenReadStream();
        var hash = await SHA256.HashDataAsync(stream, context.RequestAborted);
        files.Add(new { field = file.Name, name = file.FileName, length = file.Length, sha256 = Convert.ToHexStringLower(hash) });
    }

    return Results.Json(new { fields, files });
});

app.MapPost("/upload", async (HttpContext context) =>
{
    // Streamed: each block is hashed as it arrives, the body is never held whole.
    using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    var reader = context.Request.BodyReader;
    long length = 0;
    while (true)
    {
        var result = await reader.ReadAsync(context.RequestAborted);
        foreach (var segment in result.Buffer)
        {
            hash.AppendData(segment.Span);
            length += segment.Length;
        }

        reader.AdvanceTo(result.Buffer.End);
        if (result.IsCompleted)
        {
            break;
        }
    }

    return Results.Json(new { length, sha256 = Convert.ToHexStringLower(hash.GetHashAndReset()) });
});

app.MapGet("/stream", async (HttpContext context, int? n) =>
{
    context.Response.ContentType = "text/plain";
    for (var i = 1; i <= (n ?? 10); i++)
    {
        await context.Response.WriteAsync($"line {i}\n", context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }
});

app.MapGet("/headers", (HttpContext context) =>
{
    var request = context.Request;

    // Names in lower case (HTTP/2's form): CGI passes them upper-cased, a proxy as the client wrote them.
    var headers = request.Headers
        .OrderBy(header => header.Key, StringComparer.OrdinalIgnoreCase)
        .ToDictionary(header => header.Key.ToLowerInvariant(), header => header.Value.ToString());
    return Results.Json(new
    {
        method = request.Method,
        scheme = request.Scheme,
        host = request.Host.Value,
        pathBase = request.PathBase.Value,
        path = request.Path.Value,
        queryString = request.QueryString.Value,
        headers,
        remoteAddress = context.Connection.RemoteIpAddress?.ToString(),
        user = context.User.Identity?.Name,
    });
});

app.MapGet("/items/{id}", (string id) => Results.Text(id + "\n", "text/plain"));

app.MapGet("/status/{code:int}", (int code) => Results.StatusCode(code));

app.MapGet("/redirect", (HttpContext context) =>
{
    context.Response.Cookies.Append("visited", "yes", new CookieOptions { Path = "/", HttpOnly = true });
    return Results.Redirect("/");
});

app.MapGet("/cookies", (HttpContext context) =>
    Results.Json(context.Request.Cookies.OrderBy(cookie => cookie.Key, StringComparer.Ordinal).ToDictionary(cookie => cookie.Key, cookie => cookie.Value)));

app.MapGet("/slow", async (HttpContext context, int? ms) =>
{
    var wait = ms ?? 1000;
    try
    {
        await Task.Delay(wait, context.RequestAborted);
    }
    catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
    {
        Sample.SlowAborted(log, wait);
        throw;
    }

    return Results.Text($"slept {wait} ms\n", "text/plain");
});

app.MapGet("/throw", string () => throw new InvalidOperationException("/throw was asked to fail."));

app.Run();

internal static partial class Sample
{
    public static readonly int[] Numbers = [1, 2, 3];

    /// <summary>The line the abort tests look for in the application's output.</summary>
    [LoggerMessage(1, LogLevel.Information, "slow: aborted (ms={Milliseconds})")]
    public static partial void SlowAborted(ILogger logger, int milliseconds);
}
