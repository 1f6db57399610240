using System.Security.Cryptography;
using System.Text;
using FastCgi.Tool.Tests.Support;
using Microsoft.Playwright;
using Xunit;

namespace FastCgi.Tool.Tests;

/// <summary>
/// A person's path: headless Chromium (Debian's chromium, driven by Playwright) opens the echo sample's form page
/// through <c>fcgi serve</c>, submits it with a file, and reads the page shown. The screenshot is kept in
/// TestResults/screenshots/.
/// </summary>
public sealed class BrowserTests
{
    [Fact]
    public async Task The_form_page_submits_a_file_through_fcgi_serve()
    {
        await using var serve = await ServeProcess.StartAsync("--spawn", Paths.Echo);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Paths.RequireTool("chromium", "chromium"),
            Headless = true,
        });
        var page = await browser.NewPageAsync();
        await page.GotoAsync(serve.BaseUrl + "form");
        Assert.Equal("Echo form", await page.TitleAsync());

        var file = Encoding.UTF8.GetBytes("Hello from the browser test\n");
        await page.Locator("input[name=file]").SetInputFilesAsync(new FilePayload { Name = "note.txt", MimeType = "text/plain", Buffer = file });
        await page.Locator("input[name=name]").FillAsync("Grace Hopper");
        await page.GetByRole(AriaRole.Button, new() { Name = "Send" }).ClickAsync();
        await page.WaitForURLAsync(serve.BaseUrl + "echo");

        var shown = await page.Locator("body").InnerTextAsync();
        var screenshots = Path.Combine(Paths.Root, "TestResults", "screenshots");
        Directory.CreateDirectory(screenshots);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(screenshots, "echo-form-submitted.png"), FullPage = true });

        Assert.StartsWith(
            $"{{\"method\":\"POST\",\"params\":{{\"name\":\"Grace Hopper\",\"file\":{{\"filename\":\"note.txt\",\"length\":{file.Length},\"sha256\":\"{Convert.ToHexStringLower(SHA256.HashData(file))}\"}}}}",
            shown,
            StringComparison.Ordinal);
        Assert.Contains("\"CONTENT_TYPE\":\"multipart/form-data; boundary=", shown, StringComparison.Ordinal);
    }
}
