using System.Reflection;
using System.Text;
using FastCgi.Cgi;
using Xunit;
using static FastCgi.Tests.Cgi.FormTestEnvironment;
using FastCgi.Testing;

namespace FastCgi.Tests.Cgi;

public sealed class MultipartFormTests
{
    private const string Boundary = "----Bnd7MA4YWxkTrZu0gW";

    // The boundary less its last character: a prefix of a delimiter is data.
    private const string Boundar = "----Bnd7MA4YWxkTrZu0g";

    private static readonly string Sample =
        $"--{Boundary}\r\n" +
        "Content-Disposition: form-data; name=\"title\"\r\n\r\n" +
        "Hello, world\r\n" +
        $"--{Boundary}\r\n" +
        "Content-Disposition: form-data; name=\"upload\"; filename=\"notes.txt\"\r\n" +
        "Content-Type: text/plain; charset=utf-8\r\n\r\n" +
        "line 1\r\nline 2\r\n\r\n" +
        $"--{Boundary}\r\n" +
        "content-disposition: form-data; name=\"tags*\"\r\n\r\n" +
        "crème\r\n" +
        $"--{Boundary}--\r\n";

    internal static async Task<Form> PostAsync(Stream body, RequestLimits? limits = null, string? query = null, long? contentLength = null, string? contentType = null, Encoding? encoding = null) =>
        await ReadAsync(CgiVariables.Bare(query, "POST", contentType ?? $"multipart/form-data; boundary={Boundary}", contentLength), body, limits, encoding);

    internal static Task<Form> PostAsync(string body, RequestLimits? limits = null, string? query = null, Encoding? encoding = null)
    {
        var bytes = (encoding ?? Encoding.UTF8).GetBytes(body);
        return PostAsync(new MemoryStream(bytes), limits, query, bytes.Length, encoding: encoding);
    }

    internal static string Part(string disposition, string body, string extraHeaders = "") =>
        $"--{Boundary}\r\nContent-Disposition: form-data; {disposition}\r\n{extraHeaders}\r\n{body}\r\n";

    internal static string Close => $"--{Boundary}--\r\n";

    internal static string? TempPath(FormPart part) =>
        (string?)typeof(FormPart).GetField("_path", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(part);

    private static void AssertSample(Form form)
    {
        Assert.Equal(["title", "upload", "tags*"], form.Keys);
        Assert.Equal("Hello, world", form.GetText("title"));
        var upload = form.GetPart("upload")!;
        Assert.Equal("upload", upload.Name);
        Assert.Equal("notes.txt", upload.FileName);
        Assert.Equal("text/plain; charset=utf-8", upload.ContentType);
        Assert.Equal(16, upload.Length);
        Assert.Equal("line 1\r\nline 2\r\n", ReadText(upload));
        Assert.Equal(["crème"], form.GetTexts("tags*"));
    }

    [Fact]
    public async Task Parses_text_fields_files_and_lists()
    {
        using var form = await PostAsync(Sample);

        AssertSample(form);
        var upload = form.GetPart("upload")!;
        Assert.Equal(
            [new("Content-Disposition", "form-data; name=\"upload\"; filename=\"notes.txt\""), new("Content-Type", "text/plain; charset=utf-8")],
            upload.Headers);
        Assert.Null(TempPath(upload));
    }

    [Fact]
    public async Task Query_fields_come_first_and_parts_win()
    {
        using var form = await PostAsync(Sample, query: "title=from+query&tags*=q&q=1");

        Assert.Equal("Hello, world", form.GetText("title"));
        Assert.Equal(["q", "crème"], form.GetTexts("tags*"));
        Assert.Equal("1", form.GetText("q"));
    }

    [Fact]
    public async Task Bang_names_yield_whole_parts_and_bang_star_a_list_of_parts()
    {
        var body = Part("name=\"meta!\"", "{\"a\":1}", "Content-Type: application/json\r\n")
            + Part("name=\"docs!*\"", "one")
            + Part("name=\"docs!*\"; filename=\"two.txt\"", "two")
            + Part("name=\"plain\"", "text")
            + Close;

        using var form = await PostAsync(body);

        var meta = form.GetPart("meta!")!;
        Assert.Equal(FormValueKind.Part, form["meta!"].Kind);
        Assert.Null(meta.FileName);
        Assert.Equal("application/json", meta.ContentType);
        Assert.Equal("{\"a\":1}", ReadText(meta));
        var docs = form["docs!*"];
        Assert.Equal(FormValueKind.List, docs.Kind);
        Assert.Equal(["one", "two"], docs.Items.Select(v => ReadText(v.Part!)));
        Assert.Equal([null, "two.txt"], docs.Items.Select(v => v.Part!.FileName));
        Assert.Equal("text/plain", docs.Items[0].Part!.ContentType);
        Assert.Equal("text", form.GetText("plain"));
    }

    [Fact]
    public async Task File_without_bang_is_a_part_even_when_empty()
    {
        using var form = await PostAsync(Part("name=\"f\"; filename=\"\"", "", "Content-Type: application/octet-stream\r\n") + Close);

        var part = form.GetPart("f")!;
        Assert.Equal("", part.FileName);
        Assert.Equal(0, part.Length);
        Assert.Equal("", ReadText(part));
        Assert.Null(form.GetText("f"));
    }

    [Fact]
    public async Task Preamble_epilogue_and_transport_padding_are_ignored()
    {
        var body = "This is the preamble.\r\nIt is ignored.\r\n"
            + $"--{Boundary} \t \r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n"
            + $"--{Boundary}  \r\nContent-Disposition: form-data; name=\"b\"\r\n\r\n2\r\n"
            + $"--{Boundary}--  \r\nThis is the epilogue.\r\n--{Boundary}\r\nnot a part";

        using var form = await PostAsync(body);

        Assert.Equal(["a", "b"], form.Keys);
        Assert.Equal("1", form.GetText("a"));
        Assert.Equal("2", form.GetText("b"));
    }

    [Fact]
    public async Task Boundary_text_not_followed_by_crlf_or_dashes_is_data()
    {
        var value = $"x\r\n--{Boundary}X\r\n--{Boundary}\t!\r\n--{Boundar}";
        using var form = await PostAsync(Part("name=\"a\"", value) + Close);

        Assert.Equal(value, form.GetText("a"));
    }

    [Theory]
    [InlineData("multipart/form-data; boundary=\"a b:c\"", "a b:c")]
    [InlineData("Multipart/Form-Data;charset=utf-8;BOUNDARY=simple", "simple")]
    [InlineData("multipart/form-data; boundary=\"q\\\"uote\"", "q\"uote")]
    public async Task Boundary_parameter_may_be_quoted_and_any_case(string contentType, string boundary)
    {
        var bytes = Encoding.ASCII.GetBytes($"--{boundary}\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--{boundary}--");

        using var form = await PostAsync(new MemoryStream(bytes), contentType: contentType);

        Assert.Equal("v", form.GetText("a"));
    }

    [Fact]
    public async Task Disposition_parameters_handle_quoting_escapes_and_extended_filenames()
    {
        var body = Part("filename=\"a%22b;c.txt\"; name=\"f1\"", "1")
            + Part("name=unquoted; filename=x.bin", "2")
            + Part("name=\"f3\"; filename=\"fallback.txt\"; filename*=UTF-8''%E2%82%AC%20rates.txt", "3")
            + Part("name=\"f4\"; filename*=iso-8859-1'en'caf%E9.txt", "4")
            + Part("name=\"f5\"; filename=\"kept.txt\"; filename*=koi8-r''%C1.txt", "5")
            + Part("name=\"ünï\"; filename=\"日本.txt\"", "6")
            + Close;

        using var form = await PostAsync(body);

        Assert.Equal("a\"b;c.txt", form.GetPart("f1")!.FileName);
        Assert.Equal("x.bin", form.GetPart("unquoted")!.FileName);
        Assert.Equal("€ rates.txt", form.GetPart("f3")!.FileName);
        Assert.Equal("café.txt", form.GetPart("f4")!.FileName);
        Assert.Equal("kept.txt", form.GetPart("f5")!.FileName);
        Assert.Equal("日本.txt", form.GetPart("ünï")!.FileName);
    }

    [Fact]
    public async Task File_names_keep_backslashes_as_browsers_send_them()
    {
        // The HTML standard's multipart/form-data encoding never escapes a backslash: a Windows path arrives as is.
        var body = Part("name=\"f\"; filename=\"C:\\Users\\me\\a.txt\"", "1")
            + Part("name=\"g\"; filename=\"ends with\\\"", "2")
            + Close;

        using var form = await PostAsync(body);

        Assert.Equal("C:\\Users\\me\\a.txt", form.GetPart("f")!.FileName);
        Assert.Equal("ends with\\", form.GetPart("g")!.FileName);
    }

    [Fact]
    public async Task File_names_decode_the_html_escapes_for_quote_cr_and_lf_and_nothing_else()
    {
        // The HTML standard encodes " as %22, CR as %0D and LF as %0A in a file name, and leaves every other byte.
        var body = Part("name=\"f\"; filename=\"say %22hi%22%0D%0Anext.txt\"", "1")
            + Part("name=\"g\"; filename=\"100%25 %41 %2522 %2 %.txt\"", "2")
            + Part("name=\"h\"; filename=\"lower %0d%0a.txt\"", "3")
            + Close;

        using var form = await PostAsync(body);

        Assert.Equal("say \"hi\"\r\nnext.txt", form.GetPart("f")!.FileName);
        Assert.Equal("100%25 %41 %2522 %2 %.txt", form.GetPart("g")!.FileName);
        Assert.Equal("lower \r\n.txt", form.GetPart("h")!.FileName);
    }

    [Fact]
    public async Task Field_names_decode_the_html_escapes_too()
    {
        var body = Part("name=\"say %22hi%22\\%41\"", "v") + Close;

        using var form = await PostAsync(body);

        Assert.Equal(["say \"hi\"\\%41"], form.Keys);
    }

    [Fact]
    public async Task Latin1_form_encoding_decodes_names_values_and_file_names()
    {
        var body = Part("name=\"café\"", "crème") + Part("name=\"f\"; filename=\"é.txt\"", "x") + Close;

        using var form = await PostAsync(body, encoding: Encoding.Latin1);

        Assert.Equal("crème", form.GetText("café"));
        Assert.Equal("é.txt", form.GetPart("f")!.FileName);
    }

    [Fact]
    public async Task Folded_header_lines_are_unfolded()
    {
        var body = $"--{Boundary}\r\nContent-Disposition: form-data;\r\n name=\"a\"\r\n\r\nv\r\n" + Close;

        using var form = await PostAsync(body);

        Assert.Equal("v", form.GetText("a"));
    }

    [Fact]
    public async Task Split_at_every_offset_gives_the_same_form()
    {
        var bytes = Encoding.UTF8.GetBytes(Sample);
        for (var split = 0; split <= bytes.Length; split++)
        {
            var at = split;
            using var form = await PostAsync(new ChunkedReadStream(bytes, read => read == 0 ? at : int.MaxValue));
            AssertSample(form);
        }
    }

    [Fact]
    public async Task Growing_chunks_give_the_same_form()
    {
        var bytes = Encoding.UTF8.GetBytes(Sample);
        for (var first = 1; first <= bytes.Length; first++)
        {
            var start = first;
            using var form = await PostAsync(new ChunkedReadStream(bytes, read => start + read));
            AssertSample(form);
        }
    }

    [Fact]
    public async Task Fixed_chunk_sizes_give_the_same_form()
    {
        var bytes = Encoding.UTF8.GetBytes(Sample);
        for (var size = 1; size <= bytes.Length; size++)
        {
            var chunk = size;
            using var form = await PostAsync(new ChunkedReadStream(bytes, _ => chunk));
            AssertSample(form);
        }
    }

    [Fact]
    public async Task Several_files_spill_to_temp_files_past_the_memory_threshold()
    {
        var limits = RequestLimits.Default with { PartMemoryThreshold = 8 };
        var body = Part("name=\"small\"; filename=\"s.txt\"", "12345678")
            + Part("name=\"big\"; filename=\"b.txt\"", "123456789")
            + Part("name=\"many*\"; filename=\"m1.txt\"", new string('x', 5000))
            + Part("name=\"many*\"; filename=\"m2.txt\"", "second file, also on disk")
            + Part("name=\"text\"", "a text field longer than the threshold")
            + Close;

        var form = await PostAsync(body, limits);

        var small = form.GetPart("small")!;
        var big = form.GetPart("big")!;
        var many = form["many*"].Items.Select(v => v.Part!).ToArray();
        Assert.Null(TempPath(small));
        Assert.Equal("12345678", ReadText(small));
        Assert.Equal("123456789", ReadText(big));
        Assert.Equal(9, big.Length);
        Assert.Equal(new string('x', 5000), ReadText(many[0]));
        Assert.Equal("second file, also on disk", ReadText(many[1]));
        Assert.Equal(["m1.txt", "m2.txt"], many.Select(p => p.FileName));
        Assert.Equal("a text field longer than the threshold", form.GetText("text"));
        string[] paths = [TempPath(big)!, TempPath(many[0])!, TempPath(many[1])!];
        Assert.All(paths, path => Assert.True(File.Exists(path)));
        Assert.Equal(3, paths.Distinct().Count());

        form.Dispose();

        Assert.All(paths, path => Assert.False(File.Exists(path)));
    }

    [Fact]
    public async Task Part_count_at_limit_is_accepted()
    {
        var limits = RequestLimits.Default with { MaxMultipartParts = 3 };

        using var form = await PostAsync(Sample, limits);

        AssertSample(form);
    }

    [Fact]
    public async Task Part_count_over_limit_is_rejected_with_413()
    {
        var limits = RequestLimits.Default with { MaxMultipartParts = 2 };

        var error = await Assert.ThrowsAsync<RequestRejectedException>(() => PostAsync(Sample, limits));

        Assert.Equal(413, error.StatusCode);
        Assert.Contains("MaxMultipartParts", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Field_count_counts_query_fields_and_parts()
    {
        var limits = RequestLimits.Default with { MaxFormFields = 5 };

        using var form = await PostAsync(Sample, limits, query: "q=1&r=2");
        var error = await Assert.ThrowsAsync<RequestRejectedException>(() => PostAsync(Sample, limits, query: "q=1&r=2&s=3"));

        Assert.Equal(5, form.Count);
        Assert.Equal(413, error.StatusCode);
        Assert.Contains("MaxFormFields", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Part_headers_at_limit_are_accepted_and_over_it_rejected_with_413()
    {
        // The header bytes are the header lines with the CRLFs between them, not the empty line that ends them.
        const string Headers = "Content-Disposition: form-data; name=\"a\"\r\nX-Pad: 12345";
        var body = $"--{Boundary}\r\n{Headers}\r\n\r\nv\r\n" + Close;
        var limits = RequestLimits.Default with { MaxPartHeaderBytes = Headers.Length };

        using var form = await PostAsync(body, limits);
        var error = await Assert.ThrowsAsync<RequestRejectedException>(() => PostAsync(body, limits with { MaxPartHeaderBytes = Headers.Length - 1 }));
        var unterminated = await Assert.ThrowsAsync<RequestRejectedException>(() =>
            PostAsync(new ChunkedReadStream(Encoding.ASCII.GetBytes($"--{Boundary}\r\n" + new string('h', 100_000)), _ => 1000), limits));

        Assert.Equal("v", form.GetText("a"));
        Assert.Equal(413, error.StatusCode);
        Assert.Contains("MaxPartHeaderBytes", error.Message, StringComparison.Ordinal);
        Assert.Equal(413, unterminated.StatusCode);
    }

    [Fact]
    public async Task Body_bytes_at_limit_are_accepted_and_over_it_rejected_with_413()
    {
        var bytes = Encoding.UTF8.GetBytes(Sample);
        var limits = RequestLimits.Default with { MaxMultipartBytes = bytes.Length };

        using var form = await PostAsync(new ChunkedReadStream(bytes, _ => 10), limits);
        var streamed = await Assert.ThrowsAsync<RequestRejectedException>(() =>
            PostAsync(new ChunkedReadStream(bytes, _ => 10), limits with { MaxMultipartBytes = bytes.Length - 1 }));
        var declared = new ChunkedReadStream(bytes);
        var announced = await Assert.ThrowsAsync<RequestRejectedException>(() =>
            PostAsync(declared, limits with { MaxMultipartBytes = bytes.Length - 1 }, contentLength: bytes.Length));

        AssertSample(form);
        Assert.Equal(413, streamed.StatusCode);
        Assert.Contains("MaxMultipartBytes", streamed.Message, StringComparison.Ordinal);
        Assert.Equal(413, announced.StatusCode);
        Assert.Equal(0, declared.BytesRead);
    }

    [Fact]
    public async Task Text_field_at_value_limit_is_accepted_and_over_it_rejected_with_413_but_files_are_not_bound()
    {
        var limits = RequestLimits.Default with { MaxFieldValueBytes = 5, PartMemoryThreshold = 4 };

        using var form = await PostAsync(Part("name=\"a\"", "crèm") + Part("name=\"f\"; filename=\"f\"", "0123456789") + Close, limits);
        var error = await Assert.ThrowsAsync<RequestRejectedException>(() => PostAsync(Part("name=\"a\"", "123456") + Close, limits));

        Assert.Equal("crèm", form.GetText("a"));
        Assert.Equal("0123456789", ReadText(form.GetPart("f")!));
        Assert.Equal(413, error.StatusCode);
        Assert.Contains("MaxFieldValueBytes", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("no boundary at all")]
    [InlineData("")]
    [InlineData("--" + Boundary)]
    [InlineData("--" + Boundary + "\r\nContent-Disposition: form-data; name=\"a\"")]
    [InlineData("--" + Boundary + "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue that never ends")]
    [InlineData("--" + Boundary + "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--" + Boundary)]
    [InlineData("--" + Boundary + "\r\n\r\nno headers\r\n--" + Boundary + "--")]
    [InlineData("--" + Boundary + "\r\nContent-Type: text/plain\r\n\r\nv\r\n--" + Boundary + "--")]
    [InlineData("--" + Boundary + "\r\nContent-Disposition: form-data; filename=\"f\"\r\n\r\nv\r\n--" + Boundary + "--")]
    [InlineData("--" + Boundary + "\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nv\r\n--" + Boundary + "--")]
    [InlineData("--" + Boundary + "\r\nno colon here\r\n\r\nv\r\n--" + Boundary + "--")]
    public async Task Malformed_body_is_rejected_with_400(string body)
    {
        var error = await Assert.ThrowsAsync<RequestRejectedException>(() => PostAsync(body));

        Assert.Equal(400, error.StatusCode);
        Assert.StartsWith("Malformed multipart body", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("multipart/form-data")]
    [InlineData("multipart/form-data; boundary=")]
    [InlineData("multipart/form-data; boundary=\"\"")]
    [InlineData("multipart/form-data; boundary=12345678901234567890123456789012345678901234567890123456789012345678901")]
    [InlineData("multipart/form-data; boundary=caf\u00e9")]
    public async Task Missing_or_invalid_boundary_is_rejected_with_400(string contentType)
    {
        var error = await Assert.ThrowsAsync<RequestRejectedException>(() => PostAsync(new MemoryStream(Encoding.UTF8.GetBytes(Sample)), contentType: contentType));

        Assert.Equal(400, error.StatusCode);
    }

    [Fact]
    public async Task Body_of_only_the_close_delimiter_has_no_parts()
    {
        using var form = await PostAsync($"preamble\r\n--{Boundary}--\r\nepilogue", query: "q=1");

        Assert.Equal(["q"], form.Keys);
    }

    [Fact]
    public async Task Cancellation_stops_the_parse()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        var environ = CgiVariables.Bare(null, "POST", $"multipart/form-data; boundary={Boundary}");

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            FastCgi.Cgi.Forms.FormReader.ReadAsync(environ, new MemoryStream(Encoding.UTF8.GetBytes(Sample)), Encoding.UTF8, RequestLimits.Default, cancelled.Token).AsTask());
    }

    [Fact]
    public async Task Boundary_of_70_characters_is_accepted()
    {
        var boundary = new string('b', 70);
        var bytes = Encoding.ASCII.GetBytes($"--{boundary}\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--{boundary}--");

        using var form = await PostAsync(new MemoryStream(bytes), contentType: $"multipart/form-data; boundary={boundary}");

        Assert.Equal("v", form.GetText("a"));
    }
}
