using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using AnomalyZT.Ingest.Parsing;

namespace AnomalyZT.Ingest.DropIn;

/// <summary>Small JSON helpers shared by the drop-in readers.</summary>
internal static class DropInJson
{
    /// <summary>The string value of <paramref name="name"/> when it is a non-blank string; otherwise null.</summary>
    public static string? String(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
            && v.GetString() is { Length: > 0 } s && !string.IsNullOrWhiteSpace(s)
            ? s
            : null;

    /// <summary>The compact JSON text of an element, as UTF-8, escaping only what JSON requires (so the line parsers,
    /// which read some values only when unescaped, see <c>+</c> in offsets and non-ASCII text as sent).</summary>
    public static byte[] Compact(JsonElement element)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            element.WriteTo(writer);
        }

        return buffer.ToArray();
    }

    /// <summary>Epoch seconds (number or numeric string, fractions allowed) or an RFC 3339 string to Unix ms.</summary>
    public static bool TryTimestamp(JsonElement value, out long unixMs)
    {
        unixMs = 0;
        switch (value.ValueKind)
        {
            case JsonValueKind.Number:
                return value.TryGetDouble(out var seconds) && Utf8Values.TryEpochToMs(seconds, out unixMs);
            case JsonValueKind.String:
                var text = value.GetString()!;
                if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed))
                {
                    return Utf8Values.TryEpochToMs(parsed, out unixMs);
                }

                return Utf8Values.TryParseTimestamp(Encoding.UTF8.GetBytes(text), out unixMs);
            default:
                return false;
        }
    }

    /// <summary>Unix nanoseconds (OTLP JSON writes 64-bit integers as strings, numbers are accepted too) to ms; false
    /// when absent, zero or malformed.</summary>
    public static bool TryNanos(JsonElement obj, string name, out long unixMs, out string? reason)
    {
        unixMs = 0;
        reason = null;
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return false;
        }

        ulong nanos;
        var ok = value.ValueKind switch
        {
            JsonValueKind.String => ulong.TryParse(value.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out nanos),
            JsonValueKind.Number => value.TryGetUInt64(out nanos),
            _ => (nanos = 0) != 0,
        };
        if (!ok)
        {
            reason = $"field '{name}' is not an unsigned integer of nanoseconds";
            return false;
        }

        unixMs = (long)(nanos / 1_000_000UL);
        return nanos != 0;
    }
}
