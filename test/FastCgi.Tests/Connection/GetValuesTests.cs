using FastCgi.Tests.Support;
using Xunit;
using static FastCgi.Testing.FcgiRecords;

namespace FastCgi.Tests.Connection;

/// <summary>jonpy's <c>params</c>: GET_VALUES answers overridden and extended, in the order asked.</summary>
public sealed class GetValuesTests
{
    [Fact]
    public async Task Params_override_and_add_answers()
    {
        var options = new FastCgiServerOptions { Params = new Dictionary<string, string> { ["FCGI_MAX_REQS"] = "5", ["X_APP_VERSION"] = "1.2" } };
        await using var connection = new InMemoryConnection(() => throw new InvalidOperationException("no request expected"), options);
        await connection.WebServer.SendAsync(Record(GetValues, 0, NameValues([new("X_APP_VERSION", ""), new("FCGI_MAX_REQS", ""), new("FCGI_MPXS_CONNS", ""), new("X_UNKNOWN", "")])));
        await connection.WebServer.ExpectAsync(GetValuesResult, 0, NameValues([new("X_APP_VERSION", "1.2"), new("FCGI_MAX_REQS", "5"), new("FCGI_MPXS_CONNS", "0")]));
    }
}
