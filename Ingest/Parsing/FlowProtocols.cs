using System.Text.Json;

namespace AnomalyZT.Ingest.Parsing;

/// <summary>Transport names to IANA protocol numbers.</summary>
internal static class FlowProtocols
{
    /// <summary><c>tcp</c> 6, <c>udp</c> 17, <c>icmp</c> 1 (any case), <c>unknown_transport</c> 0, or a number 0-255.</summary>
    public static bool TryParse(ReadOnlySpan<byte> text, out byte protocol)
    {
        text = TextRanges.Trim(text);
        protocol = 0;
        if (TextRanges.EqualsLower(text, "tcp"u8))
        {
            protocol = 6;
        }
        else if (TextRanges.EqualsLower(text, "udp"u8))
        {
            protocol = 17;
        }
        else if (TextRanges.EqualsLower(text, "icmp"u8))
        {
            protocol = 1;
        }
        else if (!TextRanges.EqualsLower(text, "unknown_transport"u8))
        {
            if (!Utf8Values.TryParseInt64(text, out var number) || number is < 0 or > 255)
            {
                return false;
            }

            protocol = (byte)number;
        }

        return true;
    }

    /// <summary>Reads a JSON protocol field (name or number; null leaves it unset); null on success, else the reason.</summary>
    public static string? Read(ref Utf8JsonReader reader, string name, ref byte protocol)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        return reader.TokenType is JsonTokenType.String or JsonTokenType.Number && !reader.ValueIsEscaped
            && TryParse(reader.ValueSpan, out protocol)
            ? null
            : Invalid(name);
    }

    /// <summary>The reject reason for a bad protocol field.</summary>
    public static string Invalid(string name) => $"field '{name}' must be tcp, udp, icmp or a protocol number 0-255";
}
