using System.Buffers;
using System.Text;

namespace AnomalyZT.Silo.State.Postgres;

/// <summary>Makes any .NET string storable in a PostgreSQL <c>text</c> column, which refuses U+0000, without changing
/// equality or the byte order that <c>COLLATE "C"</c> (and SQLite) sort by.</summary>
/// <remarks>
/// U+0000 is written as U+0001 U+0001 and U+0001 as U+0001 U+0002; every other character stands for itself. The codes
/// are prefix-free and ordered like the characters they stand for (0x01 0x01 &lt; 0x01 0x02 &lt; 0x02 …), so
/// byte-wise order and equality of encoded strings are those of the originals. Lone surrogates become U+FFFD, as
/// SQLite stores them. Strings without these characters — all real ones — pass through untouched. JSON columns need
/// none of this: the serializer escapes control characters.
/// </remarks>
internal static class PgText
{
    private const char Escape = '\u0001';

    private static readonly SearchValues<char> NeedsWork = SearchValues.Create(
        ['\0', Escape, .. Enumerable.Range(0xD800, 0x800).Select(c => (char)c)]);

    /// <summary>The stored form of <paramref name="value"/>.</summary>
    internal static string Encode(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (!value.AsSpan().ContainsAny(NeedsWork))
        {
            return value;
        }

        var text = value.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') >= 0
            ? Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(value)) // lone surrogates → U+FFFD, pairs kept
            : value;
        var builder = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            _ = c switch
            {
                '\0' => builder.Append(Escape).Append(Escape),
                Escape => builder.Append(Escape).Append('\u0002'),
                _ => builder.Append(c),
            };
        }

        return builder.ToString();
    }

    /// <summary>The original of a stored string.</summary>
    /// <exception cref="InvalidDataException">The text holds an escape this codec never writes.</exception>
    internal static string Decode(string stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        var first = stored.IndexOf(Escape, StringComparison.Ordinal);
        if (first < 0)
        {
            return stored;
        }

        var builder = new StringBuilder(stored.Length);
        builder.Append(stored, 0, first);
        for (var i = first; i < stored.Length; i++)
        {
            var c = stored[i];
            if (c != Escape)
            {
                builder.Append(c);
                continue;
            }

            var next = i + 1 < stored.Length ? stored[i + 1] : '\uFFFF';
            builder.Append(next switch
            {
                Escape => '\0',
                '\u0002' => Escape,
                _ => throw new InvalidDataException("A stored text value holds a malformed U+0001 escape."),
            });
            i++;
        }

        return builder.ToString();
    }
}
