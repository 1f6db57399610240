using FastCgi.Testing;
using Xunit;

namespace FastCgi.IntegrationTests.Packages;

/// <summary>
/// A user's minimal ASP.NET Core application built from the FastCgi.AspNetCore package (docs/aspnetcore.md's first
/// example), published framework-dependent: it gets the library's runtime settings through the FastCgi package it
/// depends on (buildTransitive), and serves a request over FastCGI when started with a listening socket on fd 0.
/// </summary>
[Collection(nameof(PackageConsumers))]
public sealed class PublishedAspNetCoreTests(PackageFeed feed)
{
    [Fact]
    public async Task A_minimal_api_published_from_the_package_answers_a_request()
    {
        var project = feed.CreateApplication("Web", $"""
            <Project Sdk="Microsoft.NET.Sdk.Web">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="FastCgi.AspNetCore" Version="{feed.Version}" />
              </ItemGroup>
            </Project>
            """, """
            using FastCgi.AspNetCore;

            var builder = WebApplication.CreateBuilder(args);
            builder.WebHost.UseFastCgi();
            var app = builder.Build();
            app.MapGet("/hello", () => "Hello from ASP.NET Core\n");
            app.Run();
            """);

        var (output, publish) = await feed.PublishAsync(project, "web");

        publish.AssertSucceeded();
        Assert.Empty(publish.Warnings);
        Assert.True(Directory.Exists(Path.Combine(feed.RestoredPackages, "fastcgi.aspnetcore", feed.Version)), "FastCgi.AspNetCore was not restored from the packed folder.");
        PublishedHelloTests.AssertLibrarysRuntimeSettings(Path.Combine(output, "Web.runtimeconfig.json"));

        using var app = await SpawnedApplication.StartAsync(Path.Combine(output, "Web"));
        var response = await app.RequestAsync(CgiVariables.Environ("/hello"));

        Assert.True(
            "Status: 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello from ASP.NET Core\n" == response.Text,
            $"The response was:\n{response.Text}\nThe application's log:\n{app.Log}");
        Assert.Equal("", response.Stderr);
        Assert.Equal(0, response.ExitCode);
    }
}
