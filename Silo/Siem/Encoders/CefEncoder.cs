using System.Globalization;
using System.Text;

namespace AnomalyZT.Silo.Siem.Encoders;

/// <summary>ArcSight CEF: <c>CEF:0|Vendor|Product|Version|SignatureID|Name|Severity|Extension</c>. Header fields escape
/// <c>\</c> and <c>|</c>; extension values escape <c>\</c>, <c>=</c>, newline (<c>\n</c>) and carriage return
/// (<c>\r</c>); custom fields carry their label (<c>cs1Label=detector cs1=robust_level</c>).</summary>
public sealed class CefEncoder : ISiemEncoder
{
    /// <inheritdoc />
    public string Format => "cef";

    /// <inheritdoc />
    public string Encode(SiemRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var b = new StringBuilder(512);
        b.Append("CEF:0|");
        Header(b, SiemFormats.Vendor);
        Header(b, SiemFormats.Vendor);
        Header(b, SiemFormats.ProductVersion);
        Header(b, SiemFormats.EventClass(record));
        Header(b, record.Name);
        b.Append(SiemFormats.Severity10(record.Severity).ToString(CultureInfo.InvariantCulture)).Append('|');
        var first = true;
        foreach (var (key, _, label, value) in SiemFormats.Fields(record))
        {
            if (label is not null)
            {
                Pair(b, key + "Label", label, ref first);
            }

            Pair(b, key, value, ref first);
        }

        return b.ToString();
    }

    /// <summary>Escapes a header field: <c>\</c> and <c>|</c>; line breaks become spaces (headers cannot carry them).</summary>
    public static void Header(StringBuilder b, string value)
    {
        ArgumentNullException.ThrowIfNull(b);
        ArgumentNullException.ThrowIfNull(value);
        foreach (var c in value)
        {
            _ = c switch
            {
                '\\' => b.Append(@"\\"),
                '|' => b.Append(@"\|"),
                '\r' or '\n' => b.Append(' '),
                _ => b.Append(c),
            };
        }

        b.Append('|');
    }

    /// <summary>Escapes an extension value: <c>\</c>, <c>=</c>, newline and carriage return.</summary>
    public static string Value(string value) => Escape(value, '=');

    /// <summary>Backslash-escapes <c>\</c>, newline (<c>\n</c>), carriage return (<c>\r</c>) and
    /// <paramref name="special"/> (tab is written <c>\t</c>, anything else as itself after a backslash).</summary>
    internal static string Escape(string value, char special)
    {
        ArgumentNullException.ThrowIfNull(value);
        var b = new StringBuilder(value.Length + 8);
        foreach (var c in value)
        {
            if (c == '\\')
            {
                b.Append(@"\\");
            }
            else if (c == '\n')
            {
                b.Append(@"\n");
            }
            else if (c == '\r')
            {
                b.Append(@"\r");
            }
            else if (c == special)
            {
                b.Append('\\').Append(special == '\t' ? 't' : special);
            }
            else
            {
                b.Append(c);
            }
        }

        return b.ToString();
    }

    private static void Pair(StringBuilder b, string key, string value, ref bool first)
    {
        if (!first)
        {
            b.Append(' ');
        }

        first = false;
        b.Append(key).Append('=').Append(Value(value));
    }
}
