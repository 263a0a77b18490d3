using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace AnomalyZT.Ingest.Parsing;

// Value readers shared by the JSON formats. Each returns a reject reason naming the field, or null.
internal abstract partial class JsonLineParser
{
    private int _unescapedLength;

    /// <summary>Records where a string (or number, read as text) value is; null/empty/<c>-</c> give an absent slice.</summary>
    protected string? CaptureString(ref Utf8JsonReader reader, string name, out Utf8Slice slice)
    {
        slice = default;
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.Number when reader.ValueSpan.Length > _maxFieldBytes:
                return $"field '{name}' is {reader.ValueSpan.Length} bytes; the limit is {_maxFieldBytes}";
            case JsonTokenType.Number:
                slice = new Utf8Slice((int)reader.TokenStartIndex, reader.ValueSpan.Length, false);
                return null;
            case JsonTokenType.String:
                break;
            default:
                return $"field '{name}' is not a string";
        }

        var raw = reader.ValueSpan;
        if (raw.Length > _maxFieldBytes)
        {
            return $"field '{name}' is {raw.Length} bytes; the limit is {_maxFieldBytes}";
        }

        var text = raw;
        if (reader.ValueIsEscaped)
        {
            try
            {
                _unescapedLength = reader.CopyString(Scratch());
            }
            catch (InvalidOperationException)
            {
                return $"field '{name}' has an invalid escape sequence";
            }

            text = Scratch().AsSpan(0, _unescapedLength);
        }

        if (!Utf8.IsValid(text))
        {
            return $"field '{name}' is not valid UTF-8";
        }

        if (!TextRanges.IsBlank(text))
        {
            // TokenStartIndex points at the opening quote.
            slice = new Utf8Slice((int)reader.TokenStartIndex + 1, raw.Length, reader.ValueIsEscaped);
        }

        return null;
    }

    /// <summary>A non-negative integer: a JSON number, null (absent), or an old-style string (<c>"0"</c>, <c>"-"</c>).</summary>
    protected static string? ReadCount(ref Utf8JsonReader reader, string name, out long value)
    {
        var reason = ReadNumber(ref reader, name, out var number, out var present);
        value = 0;
        if (reason is not null || !present)
        {
            return reason;
        }

        if (number < 0 || number != Math.Floor(number) || number >= long.MaxValue)
        {
            return $"field '{name}' is not a non-negative integer";
        }

        value = reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var exact) ? exact : (long)number;
        return null;
    }

    /// <summary>A TCP/UDP port, 0 to 65535.</summary>
    protected static string? ReadPort(ref Utf8JsonReader reader, string name, out int port)
    {
        var reason = ReadCount(ref reader, name, out var value);
        port = (int)Math.Min(value, int.MaxValue);
        return reason ?? (value > 65535 ? $"field '{name}' is {value}; a port must be 0-65535" : null);
    }

    /// <summary>Any finite number (or numeric string); absent as null, empty or <c>-</c>.</summary>
    protected static string? ReadNumber(ref Utf8JsonReader reader, string name, out double value, out bool present)
    {
        value = double.NaN;
        present = false;
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.Number:
                present = reader.TryGetDouble(out value) && double.IsFinite(value);
                return present ? null : $"field '{name}' is out of range";
            case JsonTokenType.String when !reader.ValueIsEscaped:
                var text = TextRanges.Trim(reader.ValueSpan);
                if (TextRanges.IsAbsent(text))
                {
                    return null;
                }

                present = Utf8Values.TryParseDouble(text, out value) && double.IsFinite(value);
                return present ? null : $"field '{name}' is not a number";
            default:
                return $"field '{name}' is not a number";
        }
    }

    /// <summary>An RFC 3339 string or an epoch number (seconds, or milliseconds above 1e11).</summary>
    protected static string? ReadTimestamp(ref Utf8JsonReader reader, string name, out long unixMs, out bool present)
    {
        unixMs = 0;
        present = false;
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.Number:
                present = reader.TryGetDouble(out var epoch) && Utf8Values.TryEpochToMs(epoch, out unixMs);
                return present ? null : $"field '{name}' is out of range for a timestamp";
            case JsonTokenType.String when !reader.ValueIsEscaped:
                var text = reader.ValueSpan;
                if (TextRanges.IsBlank(text))
                {
                    return null;
                }

                present = Utf8Values.TryParseTimestamp(text, out unixMs);
                return present ? null : $"field '{name}' is not an RFC 3339 timestamp or epoch number";
            default:
                return $"field '{name}' is not an RFC 3339 timestamp or epoch number";
        }
    }

    /// <summary>The string for a recorded value (after <paramref name="transform"/>), or null when absent.</summary>
    protected string? Text(in Utf8Slice slice, ReadOnlySpan<byte> line, TextTransform transform = TextTransform.None)
    {
        if (slice.IsAbsent)
        {
            return null;
        }

        var value = TextRanges.Trim(TextRanges.Apply(transform, Raw(slice, line)));
        return TextRanges.IsAbsent(value) ? null : Encoding.UTF8.GetString(value);
    }

    /// <summary>Like <see cref="Text"/>, but returns a shared string for HTTP methods and Kubernetes verbs.</summary>
    protected string? SharedText(in Utf8Slice slice, ReadOnlySpan<byte> line)
    {
        if (slice.IsAbsent)
        {
            return null;
        }

        return WellKnownText.TryGet(TextRanges.Trim(Raw(slice, line)), out var text) ? text : Text(slice, line);
    }

    /// <summary>ASCII case-insensitive comparison of a recorded value with a lower-case literal.</summary>
    protected bool TextEqualsLower(in Utf8Slice slice, ReadOnlySpan<byte> line, ReadOnlySpan<byte> lowerLiteral) =>
        !slice.IsAbsent && TextRanges.EqualsLower(TextRanges.Trim(Raw(slice, line)), lowerLiteral);

    /// <summary>A value for use in a reason, cut to 64 characters.</summary>
    protected string Quote(in Utf8Slice slice, ReadOnlySpan<byte> line)
    {
        var text = Text(slice, line) ?? string.Empty;
        return text.Length <= 64 ? text : string.Concat(text.AsSpan(0, 64), "…");
    }

    /// <summary>Starts composing a string from several values (no intermediate strings).</summary>
    protected Span<byte> ComposeBuffer() => Compose();

    /// <summary>Appends a recorded value (after <paramref name="transform"/>) to the compose buffer.</summary>
    protected int Append(Span<byte> buffer, int position, in Utf8Slice slice, ReadOnlySpan<byte> line, TextTransform transform = TextTransform.None)
    {
        if (slice.IsAbsent)
        {
            return position;
        }

        var value = TextRanges.Trim(TextRanges.Apply(transform, Raw(slice, line)));
        value.CopyTo(buffer[position..]);
        return position + value.Length;
    }

    /// <summary>Appends literal bytes to the compose buffer.</summary>
    protected static int Append(Span<byte> buffer, int position, ReadOnlySpan<byte> literal)
    {
        literal.CopyTo(buffer[position..]);
        return position + literal.Length;
    }

    private ReadOnlySpan<byte> Unescaped(in Utf8Slice slice, ref Utf8JsonReader reader) =>
        slice.Escaped ? Scratch().AsSpan(0, _unescapedLength) : reader.ValueSpan;

    // The value's bytes, unescaped into the scratch buffer when needed; valid until the next call.
    private ReadOnlySpan<byte> Raw(in Utf8Slice slice, ReadOnlySpan<byte> line)
    {
        if (!slice.Escaped)
        {
            return line.Slice(slice.Start, slice.Length);
        }

        var reader = new Utf8JsonReader(line.Slice(slice.Start - 1, slice.Length + 2));
        reader.Read();
        var length = reader.CopyString(Scratch());
        return Scratch().AsSpan(0, length);
    }
}
