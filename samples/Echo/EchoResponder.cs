using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using FastCgi;
using FastCgi.Cgi;
using FastCgi.Connection;

namespace Echo;

/// <summary>The Responder: the action is the last segment of the request path.</summary>
internal sealed class EchoResponder : Handler
{
    private static readonly byte[] Pattern = CreatePattern();

    // A relative action, so the form posts to the echo action under whatever prefix the web server maps.
    private const string FormPage = """
        <!DOCTYPE html>
        <html lang="en">
        <head><meta charset="utf-8"><title>Echo form</title></head>
        <body>
        <h1>Echo form</h1>
        <form method="post" action="echo" enctype="multipart/form-data">
        <p><label>Name <input name="name" value="FastCGI"></label></p>
        <p><label>File <input type="file" name="file"></label></p>
        <p><button type="submit">Send</button></p>
        </form>
        </body>
        </html>

        """;

    public override async ValueTask ProcessAsync(Request request, CancellationToken cancellationToken)
    {
        switch (ActionOf(request))
        {
            case EchoAction.Hello:
                request.SetHeader("Content-Type", "text/plain");
                request.Write("Hello, world!\n");
                break;
            case EchoAction.Echo:
                await EchoAsync(request, cancellationToken);
                break;
            case EchoAction.Form:
                request.SetHeader("Content-Type", "text/html; charset=utf-8");
                request.Write(FormPage);
                break;
            case EchoAction.Upload:
                await UploadAsync(request, cancellationToken);
                break;
            case EchoAction.Big:
                await BigAsync(request, cancellationToken);
                break;
            case EchoAction.Error:
                await ErrorAsync(request, cancellationToken);
                break;
            case EchoAction.Slow:
                await SlowAsync(request, cancellationToken);
                break;
            case EchoAction.Block:
                await BlockAsync(request, cancellationToken);
                break;
            case EchoAction.Cookie:
                var form = await request.ReadFormAsync(cancellationToken);
                request.SetCookie(form.GetText("name") ?? "", form.GetText("value") ?? "");
                request.SetHeader("Content-Type", "text/plain");
                request.Write("ok\n");
                break;
            case EchoAction.Status:
                var code = int.Parse((await request.ReadFormAsync(cancellationToken)).GetText("code") ?? "", CultureInfo.InvariantCulture);
                request.SetStatus(code);
                request.SetHeader("Content-Type", "text/plain");
                request.Write($"status {code}\n");
                break;
            case EchoAction.Redirect:
                await RedirectAsync(request, cancellationToken);
                break;
            default:
                request.SetStatus(404);
                request.SetHeader("Content-Type", "text/plain");
                request.Write("not found\n");
                break;
        }
    }

    private enum EchoAction
    {
        NotFound,
        Hello,
        Echo,
        Form,
        Upload,
        Big,
        Error,
        Slow,
        Block,
        Cookie,
        Status,
        Redirect,
    }

    /// <summary>The last segment of the request path.</summary>
    private static EchoAction ActionOf(Request request)
    {
        var path = request.Path;
        return path[(path.LastIndexOf('/') + 1)..] switch
        {
            "hello" => EchoAction.Hello,
            "echo" => EchoAction.Echo,
            "form" => EchoAction.Form,
            "upload" => EchoAction.Upload,
            "big" => EchoAction.Big,
            "error" => EchoAction.Error,
            "slow" => EchoAction.Slow,
            "block" => EchoAction.Block,
            "cookie" => EchoAction.Cookie,
            "status" => EchoAction.Status,
            "redirect" => EchoAction.Redirect,
            _ => EchoAction.NotFound,
        };
    }

    private static async ValueTask EchoAsync(Request request, CancellationToken cancellationToken)
    {
        var form = await request.ReadFormAsync(cancellationToken);
        request.SetHeader("Content-Type", "application/json");
        var output = new ArrayBufferWriter<byte>(4096);
        using var json = new Utf8JsonWriter(output);
        json.WriteStartObject();
        json.WriteString("method", request.Method);
        json.WriteStartObject("params");
        foreach (var (name, value) in form)
        {
            json.WritePropertyName(name);
            await WriteValueAsync(json, value, cancellationToken);
        }

        json.WriteEndObject();
        json.WriteStartObject("cookies");
        foreach (var (name, value) in request.Cookies)
        {
            json.WriteString(name, value);
        }

        json.WriteEndObject();
        json.WriteStartObject("environ");
        foreach (var (name, value) in request.Environ.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            json.WriteString(name, value);
        }

        json.WriteEndObject();
        json.WriteEndObject();
        json.Flush();
        request.Write(output.WrittenSpan);
    }

    private static async ValueTask WriteValueAsync(Utf8JsonWriter json, FormValue value, CancellationToken cancellationToken)
    {
        switch (value.Kind)
        {
            case FormValueKind.Null:
                json.WriteNullValue();
                break;
            case FormValueKind.Text:
                json.WriteStringValue(value.Text);
                break;
            case FormValueKind.Part:
                var part = value.Part!;
                await using (var stream = part.OpenRead())
                {
                    var (length, sha256) = await HashAsync(stream, cancellationToken);
                    json.WriteStartObject();
                    json.WriteString("filename", part.FileName);
                    json.WriteNumber("length", length);
                    json.WriteString("sha256", sha256);
                    json.WriteEndObject();
                }

                break;
            case FormValueKind.List:
                json.WriteStartArray();
                foreach (var item in value.Items)
                {
                    await WriteValueAsync(json, item, cancellationToken);
                }

                json.WriteEndArray();
                break;
        }
    }

    private static async ValueTask UploadAsync(Request request, CancellationToken cancellationToken)
    {
        var (length, sha256) = await HashAsync(request.Body, cancellationToken);
        request.SetHeader("Content-Type", "application/json");
        request.Write($"{{\"length\": {length}, \"sha256\": \"{sha256}\"}}");
    }

    private static async ValueTask BigAsync(Request request, CancellationToken cancellationToken)
    {
        var form = await request.ReadFormAsync(cancellationToken);
        var bytes = long.Parse(form.GetText("bytes") ?? "0", CultureInfo.InvariantCulture);
        request.SetHeader("Content-Type", "application/octet-stream");
        request.Buffering = false;
        for (var sent = 0L; sent < bytes && request.Aborted == AbortReason.None;)
        {
            var chunk = (int)Math.Min(Pattern.Length, bytes - sent);
            await request.WriteAsync(Pattern.AsMemory(0, chunk), cancellationToken);
            sent += chunk;
        }
    }

    /// <summary>
    /// Throws; with <c>after=N</c> (up to 64 KiB), only once N bytes of an unbuffered body were sent: a response that
    /// fails half-way.
    /// </summary>
    private static async ValueTask ErrorAsync(Request request, CancellationToken cancellationToken)
    {
        if ((await request.ReadFormAsync(cancellationToken)).GetText("after") is { } after)
        {
            request.SetHeader("Content-Type", "application/octet-stream");
            request.Buffering = false;
            await request.WriteAsync(Pattern.AsMemory(0, Math.Clamp(int.Parse(after, CultureInfo.InvariantCulture), 0, Pattern.Length)), cancellationToken);
        }

        throw new InvalidOperationException("echo: the error action failed on purpose");
    }

    private static async ValueTask RedirectAsync(Request request, CancellationToken cancellationToken)
    {
        var form = await request.ReadFormAsync(cancellationToken);
        if (form.GetText("code") is { } code)
        {
            request.SetStatus(int.Parse(code, CultureInfo.InvariantCulture));
        }

        request.SetHeader("Location", form.GetText("to") ?? "/");
        if (form.GetText("cookie") is { } cookie)
        {
            request.SetCookie(cookie, "1");
        }
    }

    private static async ValueTask SlowAsync(Request request, CancellationToken cancellationToken)
    {
        var ms = int.Parse((await request.ReadFormAsync(cancellationToken)).GetText("ms") ?? "0", CultureInfo.InvariantCulture);
        await Task.Delay(ms, cancellationToken);
        request.SetHeader("Content-Type", "text/plain");
        request.Write($"slept {ms}\n");
    }

    /// <summary>
    /// Blocks the thread, as a handler doing blocking I/O would; the library must keep serving other connections.
    /// </summary>
    private static async ValueTask BlockAsync(Request request, CancellationToken cancellationToken)
    {
        var ms = int.Parse((await request.ReadFormAsync(cancellationToken)).GetText("ms") ?? "0", CultureInfo.InvariantCulture);
        Thread.Sleep(ms);
        request.SetHeader("Content-Type", "text/plain");
        request.Write($"blocked {ms}\n");
    }

    private static async ValueTask<(long Length, string Sha256)> HashAsync(Stream stream, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            long length = 0;
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                length += read;
            }

            return (length, Convert.ToHexStringLower(hash.GetHashAndReset()));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>64 KiB of "0123456789abcdef" repeated: every chunk of <c>big</c> starts on a pattern boundary.</summary>
    private static byte[] CreatePattern()
    {
        var pattern = new byte[64 * 1024];
        var unit = "0123456789abcdef"u8;
        for (var i = 0; i < pattern.Length; i += unit.Length)
        {
            unit.CopyTo(pattern.AsSpan(i));
        }

        return pattern;
    }
}
