using System.Text;
using AnomalyZT.Silo.State.Postgres;

namespace AnomalyZT.Tests.State;

/// <summary>The text codec that lets PostgreSQL store U+0000: reversible, and byte order and equality unchanged.</summary>
public sealed class PostgresTextTests
{
    [Theory]
    [InlineData("")]
    [InlineData("plain alice@corp")]
    [InlineData("\0")]
    [InlineData("\u0001")]
    [InlineData("\u0001\u0001\u0002\0\0")]
    [InlineData("a\0b\u0001c\u0002d")]
    [InlineData("emoji \U0001F600 ü")]
    public void EncodeThenDecode_ReturnsTheOriginal_AndStoresNoNul(string value)
    {
        var stored = PgText.Encode(value);

        Assert.DoesNotContain('\0', stored);
        Assert.Equal(value, PgText.Decode(stored));
    }

    [Fact]
    public void Encode_PlainText_IsTheSameInstance()
    {
        const string Plain = "identity/alice@corp ü \U0001F600";

        Assert.Same("abc", PgText.Encode("abc"));
        Assert.Equal(Plain, PgText.Encode(Plain));
    }

    [Fact]
    public void Encode_LoneSurrogate_BecomesReplacementCharacterLikeSqlite()
    {
        Assert.Equal("a\uFFFDb", PgText.Encode("a\uD800b"));
    }

    [Fact]
    public void Encode_RandomStrings_KeepsUtf8ByteOrderAndEquality()
    {
        var random = new Random(11);
        char[] alphabet = ['\0', '\u0001', '\u0002', 'a', 'B', '\u00FC', '\uFFFF'];
        var values = Enumerable.Range(0, 400)
            .Select(_ => new string([.. Enumerable.Range(0, random.Next(0, 6)).Select(_ => alphabet[random.Next(alphabet.Length)])]))
            .ToList();

        foreach (var a in values)
        {
            foreach (var b in values.Take(60))
            {
                var original = Math.Sign(Utf8Compare(a, b));
                var encoded = Math.Sign(Utf8Compare(PgText.Encode(a), PgText.Encode(b)));
                Assert.True(original == encoded, $"order of '{Escape(a)}' and '{Escape(b)}' changed");
            }
        }
    }

    [Fact]
    public void Decode_MalformedEscape_ThrowsInvalidDataException()
    {
        Assert.Throws<InvalidDataException>(() => PgText.Decode("a\u0001"));
        Assert.Throws<InvalidDataException>(() => PgText.Decode("a\u0001z"));
    }

    private static int Utf8Compare(string a, string b) =>
        Encoding.UTF8.GetBytes(a).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(b));

    private static string Escape(string s) => string.Concat(s.Select(c => c < ' ' || c > '~' ? $"\\u{(int)c:X4}" : c.ToString()));
}
