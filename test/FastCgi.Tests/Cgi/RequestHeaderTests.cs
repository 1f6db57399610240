using FastCgi.Tests.Support;
using Xunit;

namespace FastCgi.Tests.Cgi;

public sealed class RequestHeaderTests
{
    private static KeyValuePair<string, string> H(string name, string value) => new(name, value);

    [Fact]
    public void A_new_request_has_only_the_default_content_type()
    {
        using var request = new RecordingRequest();

        Assert.Equal([H("Content-Type", "text/html; charset=utf-8")], request.ResponseHeaders);
        Assert.Equal("text/html; charset=utf-8", Request.DefaultContentType);
        Assert.False(request.HeadersSent);
        Assert.Equal(200, request.StatusCode);
    }

    [Fact]
    public void SetHeader_replaces_every_value_and_keeps_the_first_position()
    {
        using var request = new RecordingRequest();
        request.AddHeader("X-A", "1");
        request.AddHeader("X-B", "b");
        request.AddHeader("X-A", "2");

        request.SetHeader("x-a", "3");

        Assert.Equal([H("Content-Type", Request.DefaultContentType), H("x-a", "3"), H("X-B", "b")], request.ResponseHeaders);
    }

    [Fact]
    public void ResponseHeaders_grow_past_their_first_array_and_index_like_a_list()
    {
        using var request = new RecordingRequest();
        for (var i = 1; i <= 9; i++)
        {
            request.AddHeader("X-" + i, i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        request.DeleteHeader("X-5");

        var headers = request.ResponseHeaders;
        Assert.Equal(9, headers.Count);
        Assert.Equal(H("X-4", "4"), headers[4]);
        Assert.Equal(H("X-6", "6"), headers[5]);
        Assert.Equal(H("X-9", "9"), headers[8]);
        Assert.Throws<ArgumentOutOfRangeException>(() => headers[9]);
        Assert.Throws<ArgumentOutOfRangeException>(() => headers[-1]);
    }

    [Fact]
    public void Changing_the_headers_while_enumerating_them_throws_as_for_a_list()
    {
        using var request = new RecordingRequest();
        request.AddHeader("X-A", "a");

        var exception = Assert.Throws<InvalidOperationException>(() =>
        {
            foreach (var header in request.ResponseHeaders)
            {
                request.SetHeader("X-A", "b");
            }
        });

        Assert.Equal("The response headers changed during the enumeration.", exception.Message);
    }

    [Fact]
    public void SetHeader_appends_a_new_header_at_the_end()
    {
        using var request = new RecordingRequest();

        request.SetHeader("X-New", "v");

        Assert.Equal([H("Content-Type", Request.DefaultContentType), H("X-New", "v")], request.ResponseHeaders);
    }

    [Fact]
    public void AddHeader_appends_another_value_and_GetHeader_reads_each_by_index()
    {
        using var request = new RecordingRequest();
        request.AddHeader("Set-Thing", "one");
        request.AddHeader("X-Other", "x");
        request.AddHeader("SET-THING", "two");

        Assert.Equal("one", request.GetHeader("set-thing"));
        Assert.Equal("one", request.GetHeader("Set-Thing", 0));
        Assert.Equal("two", request.GetHeader("Set-Thing", 1));
        Assert.Null(request.GetHeader("Set-Thing", 2));
        Assert.Null(request.GetHeader("Missing"));
        Assert.Equal(
            [H("Content-Type", Request.DefaultContentType), H("Set-Thing", "one"), H("X-Other", "x"), H("SET-THING", "two")],
            request.ResponseHeaders);
    }

    [Fact]
    public void DeleteHeader_removes_every_value_and_says_whether_there_was_one()
    {
        using var request = new RecordingRequest();
        request.AddHeader("X-A", "1");
        request.AddHeader("X-B", "b");
        request.AddHeader("x-a", "2");

        Assert.True(request.DeleteHeader("X-A"));
        Assert.False(request.DeleteHeader("X-A"));
        Assert.Equal([H("Content-Type", Request.DefaultContentType), H("X-B", "b")], request.ResponseHeaders);
    }

    [Fact]
    public void ClearHeaders_removes_the_default_content_type_too()
    {
        using var request = new RecordingRequest();
        request.AddHeader("X-A", "1");

        request.ClearHeaders();

        Assert.Empty(request.ResponseHeaders);
        Assert.Null(request.GetHeader("Content-Type"));
    }

    [Fact]
    public void AppendHeaderValue_creates_the_header_when_missing()
    {
        using var request = new RecordingRequest();

        request.AppendHeaderValue("Vary", "Cookie");

        Assert.Equal([H("Content-Type", Request.DefaultContentType), H("Vary", "Cookie")], request.ResponseHeaders);
    }

    [Fact]
    public void AppendHeaderValue_adds_to_the_list_once_comparing_case_insensitively()
    {
        using var request = new RecordingRequest();
        request.SetHeader("Vary", "Cookie,Accept-Language");

        request.AppendHeaderValue("vary", "accept-language");
        request.AppendHeaderValue("VARY", "Accept-Encoding");
        request.AppendHeaderValue("Vary", "COOKIE");
        request.AppendHeaderValue("Vary", "accept-encoding");

        Assert.Equal([H("Content-Type", Request.DefaultContentType), H("Vary", "Cookie,Accept-Language, Accept-Encoding")], request.ResponseHeaders);
    }

    [Fact]
    public void AppendHeaderValue_to_an_empty_value_does_not_start_with_a_comma()
    {
        using var request = new RecordingRequest();
        request.SetHeader("Vary", "");

        request.AppendHeaderValue("Vary", "Accept-Encoding");

        Assert.Equal("Accept-Encoding", request.GetHeader("Vary"));
    }

    [Fact]
    public void SetStatus_uses_the_standard_reason_phrase_or_the_given_one()
    {
        using var request = new RecordingRequest();

        request.SetStatus(404);
        Assert.Equal("404 Not Found", request.GetHeader("Status"));
        Assert.Equal(404, request.StatusCode);

        request.SetStatus(418, "I'm a teapot");
        Assert.Equal("418 I'm a teapot", request.GetHeader("Status"));
        Assert.Equal(418, request.StatusCode);

        request.SetStatus(599);
        Assert.Equal("599 Server Error", request.GetHeader("Status"));
        Assert.Single(request.ResponseHeaders, h => h.Key == "Status");
    }

    [Theory]
    [InlineData(99)]
    [InlineData(1000)]
    public void SetStatus_rejects_a_code_out_of_range(int code)
    {
        using var request = new RecordingRequest();

        Assert.Throws<ArgumentOutOfRangeException>(() => request.SetStatus(code));
        Assert.Null(request.GetHeader("Status"));
    }

    [Fact]
    public void StatusCode_reads_a_status_header_set_by_hand_and_defaults_to_200()
    {
        using var request = new RecordingRequest();
        Assert.Equal(200, request.StatusCode);

        request.SetHeader("status", "301 Moved Permanently");
        Assert.Equal(301, request.StatusCode);

        request.SetHeader("Status", "junk");
        Assert.Equal(200, request.StatusCode);
    }

    [Theory]
    [InlineData("X-A", "a\rb")]
    [InlineData("X-A", "a\nb")]
    [InlineData("X-A", "a\0b")]
    [InlineData("X-A", "ok\r\nSet-Cookie: evil=1")]
    [InlineData("", "v")]
    [InlineData("X A", "v")]
    [InlineData("X:A", "v")]
    [InlineData("X-A\r\n", "v")]
    [InlineData("Ünicode", "v")]
    [InlineData("X(A)", "v")]
    public void Invalid_names_and_values_are_rejected_by_every_mutator_and_nothing_is_stored(string name, string value)
    {
        using var request = new RecordingRequest();
        request.AddHeader("X-A", "keep");
        List<KeyValuePair<string, string>> before = [.. request.ResponseHeaders];

        Assert.Throws<ArgumentException>(() => request.SetHeader(name, value));
        Assert.Throws<ArgumentException>(() => request.AddHeader(name, value));
        Assert.Throws<ArgumentException>(() => request.AppendHeaderValue(name, value));

        Assert.Equal(before, request.ResponseHeaders);
    }

    [Fact]
    public void SetStatus_with_a_reason_that_splits_the_response_is_rejected()
    {
        using var request = new RecordingRequest();

        var exception = Assert.Throws<ArgumentException>(() => request.SetStatus(200, "OK\r\nX-Evil: 1"));
        Assert.Equal("value", exception.ParamName);
        Assert.Throws<ArgumentException>(() => request.SetStatus(200, "OK\0"));
        Assert.Null(request.GetHeader("Status"));
    }

    [Fact]
    public void Token_punctuation_is_allowed_in_names()
    {
        using var request = new RecordingRequest();

        request.AddHeader("X!#$%&'*+-.^_`|~9", "v");

        Assert.Equal("v", request.GetHeader("x!#$%&'*+-.^_`|~9"));
    }

    [Fact]
    public void A_name_is_accepted_exactly_when_every_character_is_an_RFC_9110_tchar()
    {
        using var request = new RecordingRequest();
        for (var c = (char)0; c < 0x300; c++)
        {
            var tchar = char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal);
            var name = $"X-{c}-Y";

            if (tchar)
            {
                request.SetHeader(name, "v");
                Assert.Equal("v", request.GetHeader(name));
            }
            else
            {
                var exception = Assert.Throws<ArgumentException>(() => request.SetHeader(name, "v"));
                Assert.Equal("name", exception.ParamName);
            }
        }
    }

    [Fact]
    public void Null_name_or_value_is_an_ArgumentNullException()
    {
        using var request = new RecordingRequest();

        Assert.Throws<ArgumentNullException>(() => request.SetHeader(null!, "v"));
        Assert.Throws<ArgumentNullException>(() => request.AddHeader("X-A", null!));
    }

    public static TheoryData<string, Action<Request>> HeaderMutators => new()
    {
        { "SetHeader", r => r.SetHeader("X-A", "1") },
        { "AddHeader", r => r.AddHeader("X-A", "1") },
        { "DeleteHeader", r => r.DeleteHeader("Content-Type") },
        { "ClearHeaders", r => r.ClearHeaders() },
        { "AppendHeaderValue", r => r.AppendHeaderValue("Vary", "Cookie") },
        { "SetStatus", r => r.SetStatus(404) },
        { "OutputHeaders", r => r.OutputHeaders() },
        { "GZipLevel", r => r.GZipLevel = 6 },
    };

    public static TheoryData<string, Action<Request>> WaysToSendHeaders => new()
    {
        { "Flush", r => r.Flush() },
        { "OutputHeaders", r => r.OutputHeaders() },
        { "unbuffered Write", r => { r.Buffering = false; r.Write("x"u8); } },
        { "Buffering off", r => r.Buffering = false },
        { "Close", r => r.Close() },
    };

    [Fact]
    public void Every_header_mutator_after_every_way_of_sending_headers_is_a_SequencingException()
    {
        foreach (var send in WaysToSendHeaders)
        {
            foreach (var mutate in HeaderMutators)
            {
                using var request = new RecordingRequest();
                send.Data.Item2(request);
                Assert.True(request.HeadersSent, send.Data.Item1);
                List<KeyValuePair<string, string>> before = [.. request.ResponseHeaders];
                var log = request.Log.Count;

                var thrown = Assert.Throws<SequencingException>(() => mutate.Data.Item2(request));

                Assert.Contains(mutate.Data.Item1, thrown.Message, StringComparison.Ordinal);
                Assert.Equal(before, request.ResponseHeaders);
                Assert.Equal(log, request.Log.Count);
            }
        }
    }

    [Fact]
    public void Headers_can_still_be_read_after_they_were_sent()
    {
        using var request = new RecordingRequest();
        request.SetStatus(404);
        request.Flush();

        Assert.Equal("404 Not Found", request.GetHeader("Status"));
        Assert.Equal(404, request.StatusCode);
    }
}
