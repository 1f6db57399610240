using System.Reflection;
using System.Text.RegularExpressions;
using NetArchTest.Rules;
using Xunit;

namespace FastCgi.Tests.Architecture;

/// <summary>
/// The layers of docs/architecture.md, by namespace: Protocol → Connection → Server → the application model
/// (jonpy's handlers, in <c>FastCgi</c>), the CGI toolkit beside them, and the option checks under them all. A
/// lower layer that references a higher one fails here.
/// </summary>
public sealed class LayerTests
{
    private static readonly Assembly Library = typeof(FastCgiServer).Assembly;

    /// <summary>The application model: the types directly in the root namespace.</summary>
    private static readonly string[] ApplicationModel =
        [.. Library.GetTypes().Where(type => type.Namespace == "FastCgi" && !type.IsNested).Select(type => type.FullName!)];

    public static TheoryData<string, string[]> Rules() => new()
    {
        { "FastCgi.Protocol", ["FastCgi.Connection", "FastCgi.Server", "FastCgi.Cgi", .. ApplicationModel] },
        { "FastCgi.Connection", ["FastCgi.Server", "FastCgi.Cgi", .. ApplicationModel] },
        { "FastCgi.Server", ["FastCgi.Cgi", .. ApplicationModel] },
        { "FastCgi.Cgi", ["FastCgi.Protocol", "FastCgi.Connection", "FastCgi.Server", .. ApplicationModel] },
        { "FastCgi.Validation", ["FastCgi.Protocol", "FastCgi.Connection", "FastCgi.Server", "FastCgi.Cgi", .. ApplicationModel] },
    };

    [Theory]
    [MemberData(nameof(Rules))]
    public void A_layer_uses_no_layer_above_it(string layer, string[] forbidden)
    {
        // The namespace and those below it; a plain prefix would take FastCgi.CgiRequest for FastCgi.Cgi.
        var result = Types.InAssembly(Library).That().ResideInNamespaceMatching($@"^{Regex.Escape(layer)}(\..+)?$")
            .ShouldNot().HaveDependencyOnAny(forbidden).GetResult();
        Assert.True(result.IsSuccessful, $"{layer} uses a layer above it: {string.Join(", ", result.FailingTypeNames ?? [])}");
    }

    [Fact]
    public void Every_type_is_in_a_layer()
    {
        string[] layers = ["FastCgi", "FastCgi.Protocol", "FastCgi.Connection", "FastCgi.Server", "FastCgi.Server.Transports", "FastCgi.Server.Transports.Linux", "FastCgi.Cgi", "FastCgi.Validation"];
        var outside = Library.GetTypes()
            .Where(type => type.Namespace is { } name && name.StartsWith("FastCgi", StringComparison.Ordinal))
            .Where(type => !layers.Any(layer => type.Namespace == layer || type.Namespace!.StartsWith("FastCgi.Cgi.", StringComparison.Ordinal)))
            .Select(type => type.FullName);
        Assert.Empty(outside);
    }
}
