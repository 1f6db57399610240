using System.Buffers;
using FastCgi.Connection;
using FastCgi.Protocol;
using FastCgi.Testing;
using Xunit;
using FastCgi.Server;

namespace FastCgi.Tests.Connection;

public sealed class ParamsDictionaryTests
{
    [Fact]
    public void Looks_up_decodes_and_enumerates_with_the_last_duplicate_winning()
    {
        using var environ = Create([new("A", "1"), new("NAME", "Jörg"), new("A", "2"), new("EMPTY", "")]);
        Assert.Equal("2", environ["A"]);
        Assert.Equal("Jörg", environ["NAME"]);
        Assert.True(environ.TryGetValue("EMPTY", out var empty));
        Assert.Equal("", empty);
        Assert.False(environ.ContainsKey("a"));
        Assert.False(environ.TryGetValue("MISSING", out _));
        Assert.Throws<KeyNotFoundException>(() => environ["MISSING"]);
        Assert.Equal(3, environ.Count);
        Assert.Equal(["NAME=Jörg", "A=2", "EMPTY="], environ.Select(pair => $"{pair.Key}={pair.Value}"));
    }

    [Fact]
    public void Keys_beside_both_length_forms_find_their_own_values()
    {
        var name127 = new string('N', 127);
        var name128 = new string('N', 128);
        using var environ = Create(
        [
            new(name127, new string('a', 128)),
            new(name128, new string('b', 127)),
            new("SHORT", new string('c', 128)),
            new("S", ""),
        ]);

        Assert.Equal(new string('a', 128), environ[name127]);
        Assert.Equal(new string('b', 127), environ[name128]);
        Assert.Equal(new string('c', 128), environ["SHORT"]);
        Assert.Equal("", environ["S"]);
        Assert.False(environ.ContainsKey(new string('N', 126)));
        Assert.False(environ.ContainsKey("SHORt"));
    }

    [Fact]
    public void More_pairs_than_the_first_index_holds_are_all_kept()
    {
        var pairs = Enumerable.Range(0, 100).Select(i => new KeyValuePair<string, string>($"VAR_{i}", $"value {i}")).ToArray();
        using var environ = Create(pairs);

        Assert.Equal(100, environ.Count);
        Assert.Equal(pairs, environ);
        Assert.Equal("value 0", environ["VAR_0"]);
        Assert.Equal("value 99", environ["VAR_99"]);
    }

    [Fact]
    public void A_non_ASCII_key_is_compared_as_UTF_8()
    {
        using var environ = Create([new("GRÜSSE", "1"), new("GRUSSE", "2"), new("X_\u00E9", "3")]);

        Assert.Equal("1", environ["GRÜSSE"]);
        Assert.Equal("2", environ["GRUSSE"]);
        Assert.Equal("3", environ["X_é"]);
        Assert.False(environ.ContainsKey("GRÜSSE\u0301"));
        Assert.False(environ.ContainsKey("X_e"));
    }

    [Fact]
    public void A_long_key_is_looked_up_too()
    {
        var name = new string('K', 1000);
        using var environ = Create([new(name, "v")]);
        Assert.Equal("v", environ[name]);
    }

    [Fact]
    public void Reading_after_dispose_throws()
    {
        var environ = Create([new("A", "1")]);
        environ.Dispose();
        Assert.Throws<ObjectDisposedException>(() => environ["A"]);
    }

    [Theory]
    [InlineData(3, 100, true)]
    [InlineData(2, 100, false)]
    [InlineData(3, 5, true)]
    [InlineData(3, 4, false)]
    public void Enforces_the_count_and_length_limits(int maxCount, int maxLength, bool accepted)
    {
        var limits = new FastCgiServerLimits { MaxParamCount = maxCount, MaxParamLength = maxLength };
        var pairs = new KeyValuePair<string, string>[] { new("A", "1"), new("B", "12345"), new("C", "3") };
        if (accepted)
        {
            Create(pairs, limits).Dispose();
            return;
        }

        var exception = Assert.Throws<ProtocolException>(() => Create(pairs, limits));
        Assert.Equal(maxCount < 3 ? ProtocolRejectionReason.TooManyParams : ProtocolRejectionReason.ParamTooLong, exception.Reason);
    }

    private static ParamsDictionary Create(KeyValuePair<string, string>[] pairs, FastCgiServerLimits? limits = null)
    {
        var bytes = FcgiRecords.NameValues(pairs);
        var data = ArrayPool<byte>.Shared.Rent(Math.Max(1, bytes.Length));
        bytes.CopyTo(data, 0);
        limits ??= FastCgiServerLimits.Default;
        return ParamsDictionary.Create(data, bytes.Length, limits.MaxParamCount, limits.MaxParamLength, 1);
    }
}
