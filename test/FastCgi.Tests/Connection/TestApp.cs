using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using FastCgi.Connection;
using FastCgi.Protocol;

namespace FastCgi.Tests.Connection;

/// <summary>
/// The application the in-memory protocol tests run, one handler per role. The responder answers by path:
/// <c>/hello</c>; <c>/query</c> (the query string back); <c>/wait?NAME</c> (holds until the test opens gate NAME);
/// <c>/body</c> (the body's length); <c>/big?N</c> (N bytes, unbuffered); <c>/form</c> (the form's field count); <c>/cookies</c> (the cookie count);
/// <c>/error</c> (throws). The authorizer lets "Bearer letmein" in as alice; the filter uppercases FCGI_DATA and
/// fails when FCGI_DATA_LENGTH does not match it.
/// </summary>
internal sealed class TestApp
{
    private readonly ConcurrentDictionary<string, Gate> _gates = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _writeHeld = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IReadOnlyDictionary<Role, Func<Handler>> Handlers => new Dictionary<Role, Func<Handler>>
    {
        [Role.Responder] = () => new Responder(this),
        [Role.Authorizer] = () => new Authorizer(),
        [Role.Filter] = () => new Filter(),
    };

    /// <summary>Completes when a write of <c>/big</c> had to wait for the web server to read.</summary>
    public Task WriteHeld => _writeHeld.Task;

    /// <summary>The gate that <c>/wait?<paramref name="name"/></c> waits at.</summary>
    public Gate this[string name] => _gates.GetOrAdd(name, _ => new Gate());

    /// <summary>A request held by <c>/wait</c>: when it entered, the test's release, and how it ended.</summary>
    public sealed class Gate
    {
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource<AbortReason> _left = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes when the handler is waiting at the gate.</summary>
        public Task Entered => _entered.Task;

        /// <summary>Completes when the handler left, with the request's abort reason then.</summary>
        public Task<AbortReason> Left => _left.Task;

        public void Open() => _open.TrySetResult();

        internal async Task PassAsync(Request request, CancellationToken cancellationToken)
        {
            _entered.TrySetResult();
            try
            {
                await _open.Task.WaitAsync(cancellationToken);
            }
            finally
            {
                _left.TrySetResult(request.Aborted);
            }
        }
    }

    private sealed class Responder(TestApp app) : Handler
    {
        public override async ValueTask ProcessAsync(Request request, CancellationToken cancellationToken)
        {
            request.SetHeader("Content-Type", "text/plain");
            var query = request.GetEnvironment("QUERY_STRING") ?? "";
            switch (request.GetEnvironment("SCRIPT_NAME"))
            {
                case "/hello":
                    request.Write("Hello, world!\n");
                    break;
                case "/query":
                    request.Write(query);
                    break;
                case "/wait":
                    await app[query].PassAsync(request, cancellationToken);
                    request.Write("waited " + query);
                    break;
                case "/body":
                    var length = 0L;
                    var buffer = new byte[16 * 1024];
                    int read;
                    while ((read = await request.Body.ReadAsync(buffer, cancellationToken)) > 0)
                    {
                        length += read;
                    }

                    request.Write(length.ToString(CultureInfo.InvariantCulture));
                    break;
                case "/big":
                    request.Buffering = false;
                    var chunk = new byte[16 * 1024];
                    for (var left = long.Parse(query, CultureInfo.InvariantCulture); left > 0; left -= chunk.Length)
                    {
                        var write = request.WriteAsync(chunk.AsMemory(0, (int)Math.Min(left, chunk.Length)), cancellationToken);
                        if (!write.IsCompleted)
                        {
                            app._writeHeld.TrySetResult();
                        }

                        await write;
                    }

                    break;
                case "/form":
                    var form = await request.ReadFormAsync(cancellationToken);
                    request.Write(form.Count.ToString(CultureInfo.InvariantCulture));
                    break;
                case "/cookies":
                    request.Write(request.Cookies.Count.ToString(CultureInfo.InvariantCulture));
                    break;
                case "/error":
                    throw new InvalidOperationException("the handler failed on purpose");
                default:
                    request.SetStatus(404);
                    request.Write("not found\n");
                    break;
            }
        }
    }

    private sealed class Authorizer : Handler
    {
        public override void Process(Request request)
        {
            if (request.GetEnvironment("HTTP_AUTHORIZATION") == "Bearer letmein")
            {
                request.SetStatus(200);
                request.DeleteHeader("Content-Type");
                request.SetHeader("Variable-AUTH_USER", "alice");
                return;
            }

            request.SetStatus(403);
            request.SetHeader("Content-Type", "text/plain");
            request.Write("forbidden\n");
        }
    }

    private sealed class Filter : Handler
    {
        public override async ValueTask ProcessAsync(Request request, CancellationToken cancellationToken)
        {
            request.SetHeader("Content-Type", "text/plain");
            using var data = new StreamReader(request.Data, Encoding.Latin1);
            var text = await data.ReadToEndAsync(cancellationToken);
            var declared = request.GetEnvironment("FCGI_DATA_LENGTH");
            if (declared != text.Length.ToString(CultureInfo.InvariantCulture))
            {
                throw new InvalidDataException($"FCGI_DATA_LENGTH is {declared} but {text.Length} bytes of data came.");
            }

            request.Write(text.ToUpperInvariant());
        }
    }
}
