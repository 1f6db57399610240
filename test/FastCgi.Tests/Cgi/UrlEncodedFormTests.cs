using System.Text;
using FastCgi.Cgi;
using Xunit;
using static FastCgi.Tests.Cgi.FormTestEnvironment;
using FastCgi.Testing;

namespace FastCgi.Tests.Cgi;

public sealed class UrlEncodedFormTests
{
    [Fact]
    public async Task Query_string_fields_last_value_wins()
    {
        using var form = await ReadQueryAsync("a=1&b=2&a=3");

        Assert.Equal(2, form.Count);
        Assert.Equal("3", form.GetText("a"));
        Assert.Equal("2", form.GetText("b"));
        Assert.Equal(FormValueKind.Text, form["a"].Kind);
    }

    [Fact]
    public async Task No_query_string_gives_an_empty_form()
    {
        using var form = await ReadAsync(CgiVariables.Bare(), Stream.Null);

        Assert.Empty(form);
    }

    [Fact]
    public async Task Star_names_collect_every_value_in_order()
    {
        using var form = await ReadQueryAsync("tags*=a&x=1&tags*=b&tags*&tags*=");

        var tags = form["tags*"];
        Assert.Equal(FormValueKind.List, tags.Kind);
        Assert.Equal([FormValueKind.Text, FormValueKind.Text, FormValueKind.Null, FormValueKind.Text], tags.Items.Select(v => v.Kind));
        Assert.Equal(["a", "b", null, ""], form.GetTexts("tags*"));
        Assert.Equal("1", form.GetText("x"));
        Assert.Empty(form.GetTexts("absent*"));
    }

    [Fact]
    public async Task Name_without_equals_is_null_and_name_with_equals_is_empty()
    {
        using var form = await ReadQueryAsync("flag&empty=");

        Assert.Equal(FormValueKind.Null, form["flag"].Kind);
        Assert.Same(FormValue.Null, form["flag"]);
        Assert.Null(form.GetText("flag"));
        Assert.Equal(FormValueKind.Text, form["empty"].Kind);
        Assert.Equal("", form.GetText("empty"));
    }

    [Fact]
    public async Task Bang_names_are_ignored_in_url_encoded_input()
    {
        using var form = await PostUrlEncodedAsync("body!=x&parts!*=y&b%21=z&ok=2", query: "file!=x&files!*=y&q%21*=z&ok=1");

        Assert.Equal(["ok"], form.Keys);
        Assert.Equal("2", form.GetText("ok"));
    }

    [Fact]
    public async Task Empty_segments_are_skipped_and_only_ampersand_separates()
    {
        using var form = await ReadQueryAsync("&&a=1;b=2&&=v&");

        Assert.Equal(2, form.Count);
        Assert.Equal("1;b=2", form.GetText("a"));
        Assert.Equal("v", form.GetText(""));
    }

    [Fact]
    public async Task Plus_and_percent_escapes_are_decoded_in_names_and_values()
    {
        using var form = await ReadQueryAsync("first+name=J%C3%A9r%C3%B4me+Smith&a%26b=c%3Dd%2Be&x=%3d");

        Assert.Equal("Jérôme Smith", form.GetText("first name"));
        Assert.Equal("c=d+e", form.GetText("a&b"));
        Assert.Equal("=", form.GetText("x"));
    }

    [Fact]
    public async Task Malformed_percent_escapes_are_kept_literally()
    {
        using var query = await ReadQueryAsync("%zz=%4&c=100%&d=%%41&e=%");
        using var body = await PostUrlEncodedAsync("%zz=%4&c=100%&d=%%41&e=%");

        foreach (var form in new[] { query, body })
        {
            Assert.Equal("%4", form.GetText("%zz"));
            Assert.Equal("100%", form.GetText("c"));
            Assert.Equal("%A", form.GetText("d"));
            Assert.Equal("%", form.GetText("e"));
        }
    }

    [Fact]
    public async Task Invalid_utf8_becomes_replacement_character()
    {
        using var form = await PostUrlEncodedAsync("a=x%FFy");

        Assert.Equal("x\uFFFDy", form.GetText("a"));
    }

    [Fact]
    public async Task Latin1_form_encoding_decodes_query_and_body()
    {
        using var query = await ReadQueryAsync("caf%E9=cr%E8me+br%FBl%E9e", encoding: Encoding.Latin1);
        using var body = await PostUrlEncodedAsync("caf%E9=cr%E8me+br%FBl%E9e&raw=d\u00e9j\u00e0", encoding: Encoding.Latin1);

        Assert.Equal("crème brûlée", query.GetText("café"));
        Assert.Equal("crème brûlée", body.GetText("café"));
        Assert.Equal("déjà", body.GetText("raw"));
    }

    [Fact]
    public async Task Body_fields_come_after_query_fields()
    {
        using var form = await PostUrlEncodedAsync("a=body&b=3&list*=2", query: "a=query&q=x&list*=1");

        Assert.Equal("body", form.GetText("a"));
        Assert.Equal("x", form.GetText("q"));
        Assert.Equal("3", form.GetText("b"));
        Assert.Equal(["1", "2"], form.GetTexts("list*"));
    }

    [Theory]
    [InlineData("PUT", "application/x-www-form-urlencoded")]
    [InlineData("PATCH", "Application/X-WWW-Form-UrlEncoded; charset=UTF-8")]
    public async Task Body_is_read_for_put_and_patch_and_any_case_media_type(string method, string contentType)
    {
        using var form = await ReadAsync(CgiVariables.Bare(null, method, contentType), new MemoryStream("a=1"u8.ToArray()));

        Assert.Equal("1", form.GetText("a"));
    }

    [Theory]
    [InlineData("GET", "application/x-www-form-urlencoded")]
    [InlineData("POST", "text/plain")]
    [InlineData("POST", "application/json")]
    public async Task Other_methods_and_content_types_leave_the_body_unread(string method, string contentType)
    {
        var body = new ChunkedReadStream("a=1"u8.ToArray());

        using var form = await ReadAsync(CgiVariables.Bare("q=1", method, contentType, 3), body);

        Assert.Equal(["q"], form.Keys);
        Assert.Equal(0, body.BytesRead);
    }

    [Fact]
    public async Task Body_without_content_length_is_read_to_its_end_in_small_chunks()
    {
        var text = string.Join('&', Enumerable.Range(0, 500).Select(i => $"f{i}=v{i}"));
        var body = new ChunkedReadStream(Encoding.ASCII.GetBytes(text), read => read % 7 + 1);

        using var form = await ReadAsync(CgiVariables.Bare(null, "POST", "application/x-www-form-urlencoded"), body);

        Assert.Equal(500, form.Count);
        Assert.Equal("v0", form.GetText("f0"));
        Assert.Equal("v499", form.GetText("f499"));
    }

    [Fact]
    public async Task Url_encoded_bytes_at_limit_are_accepted()
    {
        var limits = RequestLimits.Default with { MaxUrlEncodedBytes = 10 };

        using var form = await PostUrlEncodedAsync("b=1234", query: "a=é", limits: limits);

        Assert.Equal("é", form.GetText("a"));
        Assert.Equal("1234", form.GetText("b"));
    }

    [Fact]
    public async Task Url_encoded_bytes_over_limit_are_rejected_with_413()
    {
        var limits = RequestLimits.Default with { MaxUrlEncodedBytes = 10 };

        var withLength = await Assert.ThrowsAsync<RequestRejectedException>(() => PostUrlEncodedAsync("b=12345", query: "a=é", limits: limits));
        var queryOnly = await Assert.ThrowsAsync<RequestRejectedException>(() => ReadQueryAsync("a=123456789", limits));

        Assert.Equal(413, withLength.StatusCode);
        Assert.Contains("MaxUrlEncodedBytes", withLength.Message, StringComparison.Ordinal);
        Assert.Equal(413, queryOnly.StatusCode);
    }

    [Fact]
    public async Task Body_over_limit_without_content_length_is_read_only_to_limit_plus_one()
    {
        var limits = RequestLimits.Default with { MaxUrlEncodedBytes = 100 };
        var body = new ChunkedReadStream(new byte[10_000], read => 30);

        var error = await Assert.ThrowsAsync<RequestRejectedException>(() => ReadAsync(CgiVariables.Bare("q=1", "POST", "application/x-www-form-urlencoded"), body, limits));

        Assert.Equal(413, error.StatusCode);
        Assert.Equal(98, body.BytesRead);
    }

    [Fact]
    public async Task Content_length_over_limit_is_rejected_before_reading()
    {
        var limits = RequestLimits.Default with { MaxUrlEncodedBytes = 100 };
        var body = new ChunkedReadStream(new byte[10]);

        var error = await Assert.ThrowsAsync<RequestRejectedException>(() => ReadAsync(CgiVariables.Bare(null, "POST", "application/x-www-form-urlencoded", 101), body, limits));

        Assert.Equal(413, error.StatusCode);
        Assert.Equal(0, body.BytesRead);
    }

    [Fact]
    public async Task Field_count_at_limit_is_accepted()
    {
        var limits = RequestLimits.Default with { MaxFormFields = 4 };

        using var form = await PostUrlEncodedAsync("c=3&d!=4", query: "a=1&&b", limits: limits);

        Assert.Equal(["a", "b", "c"], form.Keys);
    }

    [Fact]
    public async Task Field_count_over_limit_is_rejected_with_413()
    {
        var limits = RequestLimits.Default with { MaxFormFields = 4 };

        var body = await Assert.ThrowsAsync<RequestRejectedException>(() => PostUrlEncodedAsync("c=3&d=4&e=5", query: "a=1&b", limits: limits));
        var query = await Assert.ThrowsAsync<RequestRejectedException>(() => ReadQueryAsync("a&b&c&d&e", limits));

        Assert.Equal(413, body.StatusCode);
        Assert.Contains("MaxFormFields", body.Message, StringComparison.Ordinal);
        Assert.Equal(413, query.StatusCode);
    }

    [Fact]
    public async Task Field_value_at_limit_is_accepted_counting_decoded_bytes()
    {
        var limits = RequestLimits.Default with { MaxFieldValueBytes = 4 };

        using var query = await ReadQueryAsync("a=%41%42%43%44&b=%C3%A9%C3%A9", limits);
        using var body = await PostUrlEncodedAsync("a=%41%42%43%44&b=%C3%A9%C3%A9", limits: limits);

        Assert.Equal("ABCD", query.GetText("a"));
        Assert.Equal("éé", query.GetText("b"));
        Assert.Equal("ABCD", body.GetText("a"));
        Assert.Equal("éé", body.GetText("b"));
    }

    [Theory]
    [InlineData("a=abcde")]
    [InlineData("a=%C3%A9%C3%A9x")]
    [InlineData("a=ab+cd+")]
    public async Task Field_value_over_limit_is_rejected_with_413(string fields)
    {
        var limits = RequestLimits.Default with { MaxFieldValueBytes = 4 };

        var query = await Assert.ThrowsAsync<RequestRejectedException>(() => ReadQueryAsync(fields, limits));
        var body = await Assert.ThrowsAsync<RequestRejectedException>(() => PostUrlEncodedAsync(fields, limits: limits));

        Assert.Equal(413, query.StatusCode);
        Assert.Equal(413, body.StatusCode);
        Assert.Contains("MaxFieldValueBytes", body.Message, StringComparison.Ordinal);
    }
}
