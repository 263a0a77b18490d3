using System.Globalization;
using System.Text;
using System.Text.Json;
using AnomalyZT.Ingest.Parsing;

namespace AnomalyZT.Ingest.DropIn;

/// <summary>One envelope, read with a forward-only reader: the inner event is kept as sent when it is already one
/// line, so the line parsers read it without a document or a writer copy in between.</summary>
public static partial class HecBodyReader
{
    private static HecEvent? Envelope(ReadOnlySpan<byte> json, int index, out HecError error)
    {
        error = default;
        var reader = new Utf8JsonReader(json);
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            error = new HecError(index, HecResponse.InvalidDataFormat, $"envelope is a JSON {Kind(reader.TokenType)}, not an object");
            return null;
        }

        var e = new EnvelopeFields();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.ValueSpan;
            var escaped = reader.ValueIsEscaped;
            var text = escaped ? reader.GetString() : null;
            reader.Read();
            if (Is(name, text, "event"u8))
            {
                e.HasEvent = true;
                e.EventToken = reader.TokenType;
                e.EventStart = (int)reader.TokenStartIndex;
                e.EventText = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                reader.Skip();
                e.EventEnd = (int)reader.BytesConsumed;
            }
            else if (Is(name, text, "time"u8))
            {
                e.TimeOk = TryTime(ref reader, out e.TimeMs);
            }
            else if (Is(name, text, "index"u8))
            {
                e.IndexOk = reader.TokenType is JsonTokenType.String or JsonTokenType.Null;
                e.Index = NonBlank(ref reader);
            }
            else if (Is(name, text, "fields"u8))
            {
                e.FieldsOk = reader.TokenType is JsonTokenType.StartObject or JsonTokenType.Null;
                e.Fields = reader.TokenType == JsonTokenType.StartObject ? Fields(ref reader) : null;
            }
            else if (Is(name, text, "host"u8))
            {
                e.Host = NonBlank(ref reader);
            }
            else if (Is(name, text, "source"u8))
            {
                e.Source = NonBlank(ref reader);
            }
            else if (Is(name, text, "sourcetype"u8))
            {
                e.Sourcetype = NonBlank(ref reader);
            }
            else
            {
                reader.Skip();
            }
        }

        return Check(json, e, index, out error);
    }

    private static HecEvent? Check(ReadOnlySpan<byte> json, EnvelopeFields e, int index, out HecError error)
    {
        error = default;
        if (!e.HasEvent)
        {
            error = new HecError(index, HecResponse.EventFieldRequired, "missing required field 'event'");
            return null;
        }

        byte[] line;
        switch (e.EventToken)
        {
            case JsonTokenType.StartObject:
                var raw = json[e.EventStart..e.EventEnd];
                line = raw.IndexOfAny((byte)'\n', (byte)'\r') < 0 ? raw.ToArray() : Compacted(raw);
                break;
            case JsonTokenType.String when !string.IsNullOrWhiteSpace(e.EventText):
                // One event is one line: a multi-line message (a stack trace) must not become several records.
                line = Encoding.UTF8.GetBytes(e.EventText.ReplaceLineEndings(" "));
                break;
            case JsonTokenType.Null or JsonTokenType.String:
                error = new HecError(index, HecResponse.EventFieldBlank, "field 'event' is blank");
                return null;
            default:
                error = new HecError(index, HecResponse.InvalidDataFormat, $"field 'event' is a JSON {Kind(e.EventToken)}, not an object or a string");
                return null;
        }

        if (!e.TimeOk)
        {
            error = new HecError(index, HecResponse.InvalidDataFormat, "field 'time' is not epoch seconds");
            return null;
        }

        if (!e.IndexOk)
        {
            error = new HecError(index, HecResponse.IncorrectIndex, "field 'index' is not a string");
            return null;
        }

        if (!e.FieldsOk)
        {
            error = new HecError(index, HecResponse.IndexedFieldsError, "field 'fields' is not an object");
            return null;
        }

        return new HecEvent(index, line, e.TimeMs, e.Host, e.Source, e.Sourcetype, e.Index,
            e.Fields ?? new Dictionary<string, string>(StringComparer.Ordinal));
    }

    /// <summary>A pretty-printed event made one line (only then is a document built).</summary>
    private static byte[] Compacted(ReadOnlySpan<byte> raw)
    {
        using var doc = JsonDocument.Parse(raw.ToArray());
        return DropInJson.Compact(doc.RootElement);
    }

    private static bool Is(ReadOnlySpan<byte> name, string? unescaped, ReadOnlySpan<byte> expected) =>
        unescaped is null ? name.SequenceEqual(expected) : Encoding.UTF8.GetBytes(unescaped).AsSpan().SequenceEqual(expected);

    /// <summary>Epoch seconds as a number or numeric string, or an RFC 3339 string; null is absent (true).</summary>
    private static bool TryTime(ref Utf8JsonReader reader, out long? timeMs)
    {
        timeMs = null;
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return true;
            case JsonTokenType.Number when reader.TryGetDouble(out var seconds) && Utf8Values.TryEpochToMs(seconds, out var ms):
                timeMs = ms;
                return true;
            case JsonTokenType.String:
                var text = reader.GetString()!;
                if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed))
                {
                    var ok = Utf8Values.TryEpochToMs(parsed, out var fromText);
                    timeMs = ok ? fromText : null;
                    return ok;
                }

                var rfc = Utf8Values.TryParseTimestamp(Encoding.UTF8.GetBytes(text), out var fromRfc);
                timeMs = rfc ? fromRfc : null;
                return rfc;
            default:
                reader.Skip();
                return false;
        }
    }

    /// <summary>A string value that is not blank, else null (other values are skipped).</summary>
    private static string? NonBlank(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            reader.Skip();
            return null;
        }

        return reader.GetString() is { Length: > 0 } s && !string.IsNullOrWhiteSpace(s) ? s : null;
    }

    /// <summary>The string and number members of the <c>fields</c> object, as text.</summary>
    private static Dictionary<string, string> Fields(ref Utf8JsonReader reader)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString()!;
            reader.Read();
            switch (reader.TokenType)
            {
                case JsonTokenType.String:
                    fields[name] = reader.GetString()!;
                    break;
                case JsonTokenType.Number:
                    fields[name] = Encoding.UTF8.GetString(reader.ValueSpan);
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        return fields;
    }

    private static string Kind(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "object",
        JsonTokenType.StartArray => "array",
        JsonTokenType.String => "string",
        JsonTokenType.Number => "number",
        JsonTokenType.True => "true",
        JsonTokenType.False => "false",
        _ => "null",
    };

    private sealed class EnvelopeFields
    {
        public bool HasEvent;
        public JsonTokenType EventToken;
        public int EventStart;
        public int EventEnd;
        public string? EventText;
        public bool TimeOk = true;
        public long? TimeMs;
        public bool IndexOk = true;
        public string? Index;
        public bool FieldsOk = true;
        public Dictionary<string, string>? Fields;
        public string? Host;
        public string? Source;
        public string? Sourcetype;
    }
}
