using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Ingest.DropIn;

/// <summary>Reads OTLP/HTTP bodies with the binary Protocol Buffers encoding (<c>application/x-protobuf</c>, the
/// default of the OTel Collector's <c>otlphttp</c> exporter and of the SDK exporters) into the same records and samples
/// as <see cref="OtlpJsonReader"/>, so one mapping serves both. Field numbers are those of opentelemetry-proto's
/// <c>collector/logs/v1</c>, <c>collector/metrics/v1</c>, <c>logs/v1</c>, <c>metrics/v1</c>, <c>common/v1</c> and
/// <c>resource/v1</c>. Never throws: malformed input is counted as rejected items.</summary>
public static partial class OtlpProtobufReader
{
    /// <summary>Deepest nesting of array and kvlist values read; deeper ones make the value malformed.</summary>
    internal const int MaxDepth = 32;

    /// <summary>Reads an <c>ExportLogsServiceRequest</c>. A malformed resource or scope is one rejected item; a
    /// malformed log record is one rejected record.</summary>
    public static OtlpLogsResult ReadLogs(ReadOnlySpan<byte> body)
    {
        var records = new List<OtlpLogRecord>();
        var errors = new List<DropInError>();
        var index = 0;
        var w = new ProtoWire(body);
        while (w.TryReadTag(out var field, out var type))
        {
            if (field == 1 && w.Expect(type, ProtoWireType.Len) && w.TryBytes(out var rl))
            {
                ResourceLogs(rl, ref index, records, errors);
            }
            else if (field != 1)
            {
                w.TrySkip(type);
            }
        }

        if (w.Failed)
        {
            errors.Add(new DropInError(index, "body is not a valid OTLP ExportLogsServiceRequest (truncated or malformed protobuf)"));
        }

        return new OtlpLogsResult(records, errors);
    }

    /// <summary>Reads an <c>ExportMetricsServiceRequest</c>: the data points of the dcgm metrics become GPU samples as in
    /// <see cref="OtlpJsonReader.ReadGpuMetrics"/>; data points flagged "no recorded value" are missing values.</summary>
    public static OtlpGpuResult ReadGpuMetrics(ReadOnlySpan<byte> body)
    {
        var run = new MetricsRun();
        var w = new ProtoWire(body);
        while (w.TryReadTag(out var field, out var type))
        {
            if (field == 1 && w.Expect(type, ProtoWireType.Len) && w.TryBytes(out var rm))
            {
                ResourceMetrics(rm, run);
            }
            else if (field != 1)
            {
                w.TrySkip(type);
            }
        }

        if (w.Failed)
        {
            run.Errors.Add(new DropInError(run.Index, "body is not a valid OTLP ExportMetricsServiceRequest (truncated or malformed protobuf)"));
        }

        return new OtlpGpuResult(run.Order.Select(k => run.Samples[k]).ToList(), run.Accepted, run.Errors, run.Skipped);
    }

    private static void ResourceLogs(ReadOnlySpan<byte> message, ref int index, List<OtlpLogRecord> records, List<DropInError> errors)
    {
        var resource = new LayeredAttributeDictionary();
        var (malformed, refusal) = EmbeddedAttributes(message, 1, 1, resource);
        if (malformed)
        {
            errors.Add(new DropInError(index++, "resource_logs: malformed resource"));
            return;
        }

        var w = new ProtoWire(message);
        while (w.TryReadTag(out var field, out var type))
        {
            if (field == 2 && w.Expect(type, ProtoWireType.Len) && w.TryBytes(out var sl))
            {
                ScopeLogs(sl, resource, refusal, ref index, records, errors);
            }
            else if (field != 2)
            {
                w.TrySkip(type);
            }
        }

        if (w.Failed)
        {
            errors.Add(new DropInError(index++, "resource_logs: truncated or malformed protobuf"));
        }
    }

    /// <summary>Reads one ScopeLogs; with <paramref name="refusal"/> (the resource is over a bound) every record is
    /// rejected with it.</summary>
    private static void ScopeLogs(
        ReadOnlySpan<byte> message, LayeredAttributeDictionary resource, string? refusal, ref int index, List<OtlpLogRecord> records, List<DropInError> errors)
    {
        var scope = new LayeredAttributeDictionary(resource);
        if (refusal is null)
        {
            var (malformed, scopeRefusal) = EmbeddedAttributes(message, 1, 3, scope);
            if (malformed)
            {
                errors.Add(new DropInError(index++, "scope_logs: malformed scope"));
                return;
            }

            refusal = scopeRefusal;
        }

        var w = new ProtoWire(message);
        while (w.TryReadTag(out var field, out var type))
        {
            if (field == 2 && w.Expect(type, ProtoWireType.Len) && w.TryBytes(out var lr))
            {
                OtlpJsonReader.CheckRecordBudget(index, "log records");
                string? error = null;
                OtlpJsonReader.Collect(refusal is null ? LogRecord(lr, index, scope, out error) : null, refusal ?? error, index++, records, errors);
            }
            else if (field != 2)
            {
                w.TrySkip(type);
            }
        }

        if (w.Failed)
        {
            errors.Add(new DropInError(index++, "scope_logs: truncated or malformed protobuf"));
        }
    }

    private static OtlpLogRecord? LogRecord(ReadOnlySpan<byte> message, int index, LayeredAttributeDictionary inherited, out string? error)
    {
        error = null;
        ulong time = 0, observed = 0, severity = 0;
        string? severityText = null;
        AnyValue? body = null;
        var attrs = new List<(string Key, AnyValue Value)>();
        var w = new ProtoWire(message);
        while (w.TryReadTag(out var field, out var type))
        {
            switch (field)
            {
                case 1 when type == ProtoWireType.Fixed64:
                    w.TryFixed64(out time);
                    break;
                case 11 when type == ProtoWireType.Fixed64:
                    w.TryFixed64(out observed);
                    break;
                case 2 when type == ProtoWireType.Varint:
                    w.TryVarint(out severity);
                    break;
                case 3 when type == ProtoWireType.Len && w.TryBytes(out var text):
                    severityText = Utf8(text);
                    break;
                case 5 when type == ProtoWireType.Len && w.TryBytes(out var any):
                    body = AnyValue.Read(any, 0);
                    break;
                case 6 when type == ProtoWireType.Len && w.TryBytes(out var kv):
                    if (!TryKeyValue(kv, 0, out var key, out var value))
                    {
                        error = "log record: malformed attribute";
                        return null;
                    }

                    if (key is not null)
                    {
                        attrs.Add((key, value));
                    }

                    break;
                default:
                    w.TrySkip(type);
                    break;
            }
        }

        if (w.Failed || (body?.Malformed ?? false) || attrs.Exists(a => a.Value.Malformed))
        {
            error = "log record: truncated or malformed protobuf";
            return null;
        }

        if (severity > int.MaxValue)
        {
            error = "field 'severity_number' is out of range";
            return null;
        }

        var all = new LayeredAttributeDictionary(inherited);
        string? bodyText = null;
        if (body is not null)
        {
            if (body.Kind == AnyKind.KvList && body.FlattenInto("body.", all) is { } bodyRefusal)
            {
                error = bodyRefusal;
                return null;
            }

            bodyText = body.Text();
        }

        foreach (var (key, value) in attrs)
        {
            if (value.FlattenAs(key, string.Empty, all) is { } refusal)
            {
                error = refusal;
                return null;
            }
        }

        var nanos = time != 0 ? time : observed;
        return new OtlpLogRecord(index, (long)(nanos / 1_000_000UL), (int)severity, severityText, bodyText, all);
    }

    /// <summary>Adds the attributes (field <paramref name="attributesField"/>) of the embedded message in field
    /// <paramref name="messageField"/> of <paramref name="message"/> (a Resource or an InstrumentationScope) to
    /// <paramref name="into"/>: whether the bytes were malformed, and the reason when a key or the count is over its
    /// bound.</summary>
    internal static (bool Malformed, string? Refusal) EmbeddedAttributes(ReadOnlySpan<byte> message, int messageField, int attributesField, LayeredAttributeDictionary into)
    {
        string? refusal = null;
        var w = new ProtoWire(message);
        while (w.TryReadTag(out var field, out var type))
        {
            if (field == messageField && type == ProtoWireType.Len && w.TryBytes(out var embedded))
            {
                var (malformed, over) = Attributes(embedded, attributesField, into);
                if (malformed)
                {
                    return (true, null);
                }

                refusal ??= over;
            }
            else if (field != messageField || type != ProtoWireType.Len)
            {
                w.TrySkip(type);
            }
        }

        return (w.Failed, refusal);
    }

    /// <summary>Flattens the repeated KeyValue field <paramref name="attributesField"/> of <paramref name="message"/>;
    /// stops adding at the first bound it meets (the reason is returned) but still checks the bytes.</summary>
    private static (bool Malformed, string? Refusal) Attributes(ReadOnlySpan<byte> message, int attributesField, LayeredAttributeDictionary into)
    {
        string? refusal = null;
        var w = new ProtoWire(message);
        while (w.TryReadTag(out var field, out var type))
        {
            if (field == attributesField && type == ProtoWireType.Len && w.TryBytes(out var kv))
            {
                if (!TryKeyValue(kv, 0, out var key, out var value) || value.Malformed)
                {
                    return (true, null);
                }

                if (key is not null && refusal is null)
                {
                    refusal = value.FlattenAs(key, string.Empty, into);
                }
            }
            else if (field != attributesField || type != ProtoWireType.Len)
            {
                w.TrySkip(type);
            }
        }

        return (w.Failed, refusal);
    }

    /// <summary>A KeyValue (key = 1, value = 2); false when malformed. A pair without a key is skipped
    /// (<paramref name="key"/> null), as the JSON reader does.</summary>
    internal static bool TryKeyValue(ReadOnlySpan<byte> message, int depth, out string? key, out AnyValue value)
    {
        key = null;
        value = AnyValue.Empty;
        var w = new ProtoWire(message);
        while (w.TryReadTag(out var field, out var type))
        {
            if (field == 1 && type == ProtoWireType.Len && w.TryBytes(out var k))
            {
                key = Utf8(k);
            }
            else if (field == 2 && type == ProtoWireType.Len && w.TryBytes(out var v))
            {
                value = AnyValue.Read(v, depth);
            }
            else
            {
                w.TrySkip(type);
            }
        }

        return !w.Failed && !value.Malformed;
    }

    private static string Utf8(ReadOnlySpan<byte> bytes) => System.Text.Encoding.UTF8.GetString(bytes);
}
