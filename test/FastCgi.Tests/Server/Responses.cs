using System.Text;
using FastCgi.Testing;
using static FastCgi.Testing.FcgiRecords;

namespace FastCgi.Tests.Server;

/// <summary>The exact records of the test application's answers, as the server-level tests expect them.</summary>
internal static class Responses
{
    /// <summary>The answer to a GET of <c>/hello</c> on request <paramref name="id"/>: one STDOUT record, the empty one, END_REQUEST (0, complete).</summary>
    public static Task ExpectHelloAsync(this FakeWebServer web, ushort id) => web.ExpectTextAsync(id, "Hello, world!\n");

    /// <summary>The answer of <c>/wait?<paramref name="gate"/></c> once the gate opened.</summary>
    public static Task ExpectWaitedAsync(this FakeWebServer web, ushort id, string gate) => web.ExpectTextAsync(id, "waited " + gate);

    /// <summary>FCGI_OVERLOADED (spec 5.5: protocol status 2) for request <paramref name="id"/>, with no other record.</summary>
    public static Task ExpectOverloadedAsync(this FakeWebServer web, ushort id) => web.ExpectEndRequestAsync(id, protocolStatus: 2);

    private static async Task ExpectTextAsync(this FakeWebServer web, ushort id, string body)
    {
        await web.ExpectAsync(Stdout, id, Encoding.ASCII.GetBytes("Content-Type: text/plain\r\n\r\n" + body));
        await web.ExpectAsync(Stdout, id, []);
        await web.ExpectEndRequestAsync(id);
    }
}
