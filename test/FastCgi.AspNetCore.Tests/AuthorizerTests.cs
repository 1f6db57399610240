using System.Net;
using FastCgi.AspNetCore.Tests.Support;
using FastCgi.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Xunit;

namespace FastCgi.AspNetCore.Tests;

/// <summary>The Authorizer role (spec 6.3) behind lighttpd: one endpoint authorizes, the same application responds.</summary>
public sealed class AuthorizerTests
{
    [Fact]
    public async Task An_authorizer_endpoint_grants_with_variables_and_denies_with_its_own_answer()
    {
        var (app, port) = await InProcessApp.StartAsync(
            Map,
            options =>
            {
                options.Roles = FastCgiRoles.Responder | FastCgiRoles.Authorizer;
                options.AuthorizerPath = "/authorize";
            });
        await using (app)
        {
            await using var lighttpd = await LighttpdServer.StartAsync(
                "lighttpd-aspnetcore-authorizer.conf", more: new Dictionary<string, string> { ["=> 9000"] = "=> " + WebServerProcess.Text(port) });
            using var client = new HttpClient { BaseAddress = lighttpd.BaseUri, Timeout = TimeSpan.FromSeconds(30) };

            using (var denied = await client.GetAsync("/whoami"))
            {
                Assert.Equal((HttpStatusCode.Forbidden, "denied /whoami?\n"), (denied.StatusCode, await denied.Content.ReadAsStringAsync()));
            }

            using var granted = new HttpRequestMessage(HttpMethod.Get, "/whoami?x=1");
            granted.Headers.Add("X-Token", "secret");
            using var response = await client.SendAsync(granted);

            // The responder sees the authorizer's Variable-AUTH_USER as AUTH_USER, and so as HttpContext.User.
            Assert.Equal((HttpStatusCode.OK, "user=alice path=/whoami query=?x=1 role=Responder\n"), (response.StatusCode, await response.Content.ReadAsStringAsync()));
        }
    }

    private static void Map(WebApplication app)
    {
        app.MapGet("/authorize", (HttpContext context) =>
        {
            // RawTarget is the request being authorized; this endpoint only sees Authorizer requests.
            var target = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()!.RawTarget;
            if (!context.IsFastCgiAuthorizer() || context.Request.Headers["X-Token"] != "secret")
            {
                return Results.Text("denied " + target.Split('?')[0] + "?\n", "text/plain", statusCode: StatusCodes.Status403Forbidden);
            }

            context.Response.SetAuthorizerVariable("AUTH_USER", "alice");
            return Results.Ok();
        });
        app.MapGet("/whoami", (HttpContext context) =>
            $"user={context.User.Identity?.Name} path={context.Request.Path} query={context.Request.QueryString} role={context.Features.Get<IFastCgiFeature>()!.Role}\n");
    }
}
