using System.Security.Cryptography;
using System.Text;
using FastCgi.Cgi;
using Xunit;
using static FastCgi.Tests.Cgi.FormTestEnvironment;
using FastCgi.Testing;

namespace FastCgi.Tests.Cgi;

/// <summary>Large uploads and temporary-file cleanup: run alone, since they measure process-wide state.</summary>
[Collection(nameof(RunsAlone))]
public sealed class MultipartUploadTests
{
    private const string Boundary = "----Bnd7MA4YWxkTrZu0gW";

    private static int TempFileCount() => Directory.GetFiles(Path.GetTempPath(), "fastcgi-*").Length;

    [Fact]
    public async Task Fifty_megabyte_upload_streams_to_disk_with_bounded_memory()
    {
        const long FileLength = 50L * 1024 * 1024;
        using var body = new GeneratedUploadStream(Boundary, "video", "big.bin", FileLength);
        var environ = CgiVariables.Bare(null, "POST", $"multipart/form-data; boundary={Boundary}", body.Length);

        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var form = await ReadAsync(environ, body);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;

        var part = form.GetPart("video")!;
        var path = MultipartFormTests.TempPath(part)!;
        Assert.True(allocated < 8 * 1024 * 1024, $"Parsing allocated {allocated} bytes.");
        Assert.Equal("big.bin", part.FileName);
        Assert.Equal("application/octet-stream", part.ContentType);
        Assert.Equal(FileLength, part.Length);
        Assert.Equal(FileLength, new FileInfo(path).Length);
        using (var stream = part.OpenRead())
        {
            Assert.Equal(Convert.ToHexString(body.FileHash()), Convert.ToHexString(await SHA256.HashDataAsync(stream, TestContext.Current.CancellationToken)));
        }

        form.Dispose();

        Assert.False(File.Exists(path));
    }

    [Fact]
    public async Task Temp_files_are_deleted_when_the_body_turns_out_malformed()
    {
        var limits = RequestLimits.Default with { PartMemoryThreshold = 4 };
        var body = MultipartFormTests.Part("name=\"f\"; filename=\"a\"", "spilled to disk")
            + $"--{Boundary}\r\nContent-Disposition: form-data; name=\"g\"; filename=\"b\"\r\n\r\nalso spilled, never closed";
        var before = TempFileCount();

        var error = await Assert.ThrowsAsync<RequestRejectedException>(() => MultipartFormTests.PostAsync(body, limits));

        Assert.Equal(400, error.StatusCode);
        Assert.Equal(before, TempFileCount());
    }

    [Fact]
    public async Task Temp_files_are_deleted_when_a_limit_is_hit()
    {
        var limits = RequestLimits.Default with { PartMemoryThreshold = 4, MaxMultipartBytes = 300 };
        var body = MultipartFormTests.Part("name=\"f\"; filename=\"a\"", "spilled to disk")
            + MultipartFormTests.Part("name=\"g\"; filename=\"b\"", new string('x', 1000))
            + MultipartFormTests.Close;
        var before = TempFileCount();

        var error = await Assert.ThrowsAsync<RequestRejectedException>(() =>
            MultipartFormTests.PostAsync(new ChunkedReadStream(Encoding.ASCII.GetBytes(body), _ => 64), limits));

        Assert.Equal(413, error.StatusCode);
        Assert.Equal(before, TempFileCount());
    }
}
