using System.Text;

namespace AnomalyZT.Tests.SiemCore;

/// <summary>Independent readers of CEF and LEEF lines, written from the formats' escaping rules, so tests can check
/// that every field survives encoding (and a trip through a real syslog receiver).</summary>
internal static class SiemParsers
{
    /// <summary>Header fields (7 after "CEF:0") and the extension as key → value, unescaped.</summary>
    public static (List<string> Header, Dictionary<string, string> Extension) ParseCef(string line)
    {
        Assert.StartsWith("CEF:", line, StringComparison.Ordinal);
        var (header, i) = ParseHeader(line, 7);

        // Extension: key=value pairs separated by spaces; a value runs until the space before the next unescaped key=.
        var ext = line[i..];
        var pairs = new Dictionary<string, string>(StringComparer.Ordinal);
        var starts = new List<(int KeyStart, int EqualsAt)>();
        for (var j = 0; j < ext.Length; j++)
        {
            if (ext[j] == '=' && !Escaped(ext, j))
            {
                var k = j - 1;
                while (k >= 0 && ext[k] != ' ')
                {
                    k--;
                }

                starts.Add((k + 1, j));
            }
        }

        for (var s = 0; s < starts.Count; s++)
        {
            var (keyStart, eq) = starts[s];
            var end = s + 1 < starts.Count ? starts[s + 1].KeyStart - 1 : ext.Length;
            pairs[ext[keyStart..eq]] = UnescapeCef(ext[(eq + 1)..end]);
        }

        return (header, pairs);
    }

    /// <summary>Header fields (LEEF:2.0 plus 5) and attributes, unescaped.</summary>
    public static (List<string> Header, Dictionary<string, string> Attributes) ParseLeef(string line)
    {
        Assert.StartsWith("LEEF:2.0|", line, StringComparison.Ordinal);
        var (header, i) = ParseHeader(line, 6);
        Assert.Equal("x09", header[5]);
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in line[i..].Split('\t'))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            attributes[pair[..eq]] = UnescapeLeef(pair[(eq + 1)..]);
        }

        return (header, attributes);
    }

    /// <summary>The first <paramref name="count"/> pipe-separated header fields (with <c>\|</c> and <c>\\</c> unescaped)
    /// and the index just after the last pipe.</summary>
    private static (List<string> Header, int Next) ParseHeader(string line, int count)
    {
        var header = new List<string>();
        var field = new StringBuilder();
        var i = 0;
        while (header.Count < count)
        {
            var c = line[i++];
            if (c == '\\' && i < line.Length && line[i] is '\\' or '|')
            {
                field.Append(line[i++]);
            }
            else if (c == '|')
            {
                header.Add(field.ToString());
                field.Clear();
            }
            else
            {
                field.Append(c);
            }
        }

        return (header, i);
    }

    private static bool Escaped(string text, int at)
    {
        var backslashes = 0;
        for (var k = at - 1; k >= 0 && text[k] == '\\'; k--)
        {
            backslashes++;
        }

        return backslashes % 2 == 1;
    }

    private static string UnescapeCef(string value) => Unescape(value, c => c switch
    {
        'n' => "\n",
        'r' => "\r",
        '=' => "=",
        '\\' => "\\",
        _ => "\\" + c,
    });

    private static string UnescapeLeef(string value) => Unescape(value, c => c switch
    {
        'n' => "\n",
        'r' => "\r",
        't' => "\t",
        '\\' => "\\",
        _ => "\\" + c,
    });

    private static string Unescape(string value, Func<char, string> escape)
    {
        var b = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '\\' && i + 1 < value.Length)
            {
                b.Append(escape(value[++i]));
            }
            else
            {
                b.Append(value[i]);
            }
        }

        return b.ToString();
    }
}
