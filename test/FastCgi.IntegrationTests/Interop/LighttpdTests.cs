using System.Net;
using FastCgi.IntegrationTests.Support;
using FastCgi.Testing;
using Xunit;

namespace FastCgi.IntegrationTests.Interop;

/// <summary>
/// lighttpd mod_fastcgi spawning the echo sample itself (bin-path; its listening socket on fd 0):
/// docs/snippets/lighttpd-fastcgi.conf, a responder with 2 processes and two authorizers; and, test-only, the libfcgi
/// C authorizer in front of static files under /native/VARIANT/, once per way of writing its denial.
/// </summary>
public sealed class LighttpdFixture : ResponderFixture
{
    private LighttpdServer? _lighttpd;

    internal LighttpdServer Lighttpd => _lighttpd!;

    internal override WebServerProcess Server => Lighttpd;

    public override async ValueTask InitializeAsync()
    {
        var native = await NativeAuthorizer.ExecutableAsync();
        string[] variants = [NativeAuthorizer.OneRecord, NativeAuthorizer.TypeFirst, NativeAuthorizer.SplitBody];
        var authorizers = string.Join(",\n", variants.Select(variant => $$"""
                "/native/{{variant}}/" => ((
                    "mode" => "authorizer",
                    "socket" => "/run/echo/native-{{variant}}.sock",
                    "bin-path" => "{{native}} {{variant}}",
                    "docroot" => "/srv/www",
                    "check-local" => "disable",
                ))
            """));
        _lighttpd = await LighttpdServer.StartAsync("lighttpd-fastcgi.conf", $"fastcgi.server += (\n{authorizers}\n)");
        foreach (var folder in variants.Select(variant => "www/native/" + variant).Append("www/private"))
        {
            Directory.CreateDirectory(Lighttpd.PathIn(folder));
            File.WriteAllText(Lighttpd.PathIn(folder + "/secret.txt"), "the secret\n");
        }

        AppUri = new Uri(Lighttpd.BaseUri, "app/");
    }

    protected override async ValueTask StopAsync()
    {
        if (_lighttpd is not null)
        {
            await _lighttpd.DisposeAsync();
        }
    }
}

public sealed class LighttpdTests(LighttpdFixture fixture) : ResponderContract(fixture), IClassFixture<LighttpdFixture>
{
    // lighttpd's own table sets the reason phrase; it has none for 418 and sends "HTTP/1.1 418 " with an empty one.
    protected override string ExpectedReason(int code) => code == 418 ? "" : ApplicationReason(code);

    // With a prefix ("/app/") and check-local disabled, lighttpd takes the first segment after the prefix as the
    // script and the rest as PATH_INFO (/app/echo alone is all SCRIPT_NAME, no PATH_INFO).
    protected override (string?, string?, string?) ExpectedPaths => ("/app/sub", "/echo", "/app/sub/echo?x=1");

    protected override (string?, string?) ExpectedHostAndLength(string hostAndPort) => (hostAndPort, "0");

    [Fact]
    public async Task Spawns_the_processes_itself_each_on_its_own_socket()
    {
        // max-procs 2 for the responder, 1 for each authorizer; "socket" gets "-N" appended per process.
        var children = fixture.Lighttpd.ChildrenRunning(Path.Combine(fixture.Lighttpd.ApplicationFolder, "Echo"));
        Assert.Equal(5, children.Count);
        Assert.True(File.Exists(fixture.Lighttpd.PathIn("echo.sock-0")));
        Assert.True(File.Exists(fixture.Lighttpd.PathIn("echo.sock-1")));
        using var client = Client();
        using var response = await client.GetAsync("hello", TestContext.Current.CancellationToken);
        Assert.Equal("Hello, world!\n", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Get_passes_content_length_zero()
    {
        using var client = Client();
        using var response = await client.GetAsync("echo", TestContext.Current.CancellationToken);
        Assert.Equal("0", Http.Text(ResponderContract.Environ(await Http.JsonAsync(response)), "CONTENT_LENGTH"));
    }

    [Fact]
    public async Task Authorizer_in_front_of_a_static_file()
    {
        using var client = Http.Client(fixture.Lighttpd.BaseUri);
        using var denied = await client.GetAsync("private/secret.txt", TestContext.Current.CancellationToken);
        AssertForbidden(denied);
        Assert.Equal("forbidden\n", await denied.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));

        client.DefaultRequestHeaders.Authorization = new("Bearer", "letmein");
        using var granted = await client.GetAsync("private/secret.txt", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, granted.StatusCode);
        Assert.Equal("text/plain", granted.Content.Headers.ContentType?.ToString());
        Assert.Equal("the secret\n", await granted.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Authorizer_in_front_of_the_responder_passes_AUTH_USER_on()
    {
        using var client = Http.Client(fixture.Lighttpd.BaseUri);
        using var denied = await client.GetAsync("secure/echo", TestContext.Current.CancellationToken);
        AssertForbidden(denied);

        client.DefaultRequestHeaders.Authorization = new("Bearer", "letmein");
        using var granted = await client.GetAsync("secure/echo?x=1", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, granted.StatusCode);
        var json = await Http.JsonAsync(granted);
        Assert.Equal("""{"x":"1"}""", json.GetProperty("params").GetRawText());
        var environ = ResponderContract.Environ(json);
        Assert.Equal("alice", Http.Text(environ, "AUTH_USER"));
        Assert.Equal("Bearer letmein", Http.Text(environ, "HTTP_AUTHORIZATION"));
        Assert.Equal("/secure/echo?x=1", Http.Text(environ, "REQUEST_URI"));
    }

    [Theory]
    [InlineData(NativeAuthorizer.OneRecord)]
    [InlineData(NativeAuthorizer.SplitBody)]
    public async Task The_libfcgi_authorizer_denies_and_grants_the_same(string variant)
    {
        using var client = Http.Client(fixture.Lighttpd.BaseUri);
        using var denied = await client.GetAsync($"native/{variant}/secret.txt", TestContext.Current.CancellationToken);
        AssertForbidden(denied);
        Assert.Equal("forbidden\n", await denied.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));

        client.DefaultRequestHeaders.Authorization = new("Bearer", "letmein");
        using var granted = await client.GetAsync($"native/{variant}/secret.txt", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, granted.StatusCode);
        Assert.Equal("the secret\n", await granted.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Headers_an_authorizer_sends_before_its_Status_are_dropped()
    {
        // lighttpd reads an authorizer's headers as those of a 200 (whose headers it keeps to itself) until a Status
        // says otherwise: the libfcgi authorizer that writes Content-Type first loses it. So Status goes first.
        using var client = Http.Client(fixture.Lighttpd.BaseUri);
        using var denied = await client.GetAsync($"native/{NativeAuthorizer.TypeFirst}/secret.txt", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        Assert.Null(denied.Content.Headers.ContentType);
        Assert.Equal("forbidden\n", await denied.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    private static void AssertForbidden(HttpResponseMessage denied)
    {
        // The authorizer's denial reaches the client as written: status, Content-Type and body.
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        Assert.Equal("text/plain", denied.Content.Headers.ContentType?.ToString());
        Assert.Equal(10, denied.Content.Headers.ContentLength);
    }
}
