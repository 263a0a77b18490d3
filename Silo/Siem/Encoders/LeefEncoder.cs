using System.Globalization;
using System.Text;

namespace AnomalyZT.Silo.Siem.Encoders;

/// <summary>IBM LEEF 2.0: <c>LEEF:2.0|Vendor|Product|Version|EventID|x09|</c> then tab-separated <c>key=value</c>.
/// <c>devTime</c> is Unix milliseconds (<c>devTimeFormat=epoch</c> is not standard, so the record time also goes in
/// ISO 8601 as <c>isoTime</c>). LEEF defines no escaping; so that every value survives, a value's backslash, tab,
/// newline and carriage return are written <c>\\</c>, <c>\t</c>, <c>\n</c>, <c>\r</c>, and header fields escape
/// <c>|</c> as <c>\|</c>.</summary>
public sealed class LeefEncoder : ISiemEncoder
{
    /// <inheritdoc />
    public string Format => "leef";

    /// <inheritdoc />
    public string Encode(SiemRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var b = new StringBuilder(512);
        b.Append("LEEF:2.0|");
        CefEncoder.Header(b, SiemFormats.Vendor);
        CefEncoder.Header(b, SiemFormats.Vendor);
        CefEncoder.Header(b, SiemFormats.ProductVersion);
        CefEncoder.Header(b, SiemFormats.EventClass(record));
        b.Append("x09|");
        b.Append("sev=").Append(SiemFormats.Severity10(record.Severity).ToString(CultureInfo.InvariantCulture));
        b.Append("\tisoTime=").Append(DateTimeOffset.FromUnixTimeMilliseconds(record.TimeMs).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
        b.Append("\tname=").Append(Value(record.Name));
        foreach (var (_, key, _, value) in SiemFormats.Fields(record))
        {
            b.Append('\t').Append(key).Append('=').Append(Value(value));
        }

        return b.ToString();
    }

    /// <summary>Escapes a value: backslash, tab, newline, carriage return.</summary>
    public static string Value(string value) => CefEncoder.Escape(value, '\t');
}
