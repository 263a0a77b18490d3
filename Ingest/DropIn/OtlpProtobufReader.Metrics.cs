using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Ingest.DropIn;

/// <summary>The metrics half: <c>ResourceMetrics</c> (resource = 1, scope_metrics = 2), <c>ScopeMetrics</c>
/// (metrics = 2), <c>Metric</c> (name = 1, gauge = 5, sum = 7), <c>Gauge</c>/<c>Sum</c> (data_points = 1),
/// <c>NumberDataPoint</c> (time_unix_nano = 3, as_double = 4, as_int = 6, attributes = 7, flags = 8).</summary>
public static partial class OtlpProtobufReader
{
    /// <summary>DataPointFlags: the point is valid but has no recorded value.</summary>
    private const ulong NoRecordedValue = 1;

    private static void ResourceMetrics(ReadOnlySpan<byte> message, MetricsRun run)
    {
        var resource = new LayeredAttributeDictionary();
        var (malformed, refusal) = EmbeddedAttributes(message, 1, 1, resource);
        if (malformed)
        {
            run.Errors.Add(new DropInError(run.Index++, "resource_metrics: malformed resource"));
            return;
        }

        var w = new ProtoWire(message);
        while (w.TryReadTag(out var field, out var type))
        {
            if (field == 2 && type == ProtoWireType.Len && w.TryBytes(out var sm))
            {
                ScopeMetrics(sm, resource, refusal, run);
            }
            else if (field != 2 || type != ProtoWireType.Len)
            {
                w.TrySkip(type);
            }
        }

        if (w.Failed)
        {
            run.Errors.Add(new DropInError(run.Index++, "resource_metrics: truncated or malformed protobuf"));
        }
    }

    private static void ScopeMetrics(ReadOnlySpan<byte> message, LayeredAttributeDictionary resource, string? refusal, MetricsRun run)
    {
        var w = new ProtoWire(message);
        while (w.TryReadTag(out var field, out var type))
        {
            if (field == 2 && type == ProtoWireType.Len && w.TryBytes(out var metric))
            {
                Metric(metric, resource, refusal, run);
            }
            else if (field != 2 || type != ProtoWireType.Len)
            {
                w.TrySkip(type);
            }
        }

        if (w.Failed)
        {
            run.Errors.Add(new DropInError(run.Index++, "scope_metrics: truncated or malformed protobuf"));
        }
    }

    private static void Metric(ReadOnlySpan<byte> message, LayeredAttributeDictionary resource, string? refusal, MetricsRun run)
    {
        // The name decides whether the points matter; it may follow the data, so it is read first.
        string? name = null;
        var data = ReadOnlySpan<byte>.Empty;
        var hasData = false;
        var w = new ProtoWire(message);
        while (w.TryReadTag(out var field, out var type))
        {
            if (field == 1 && type == ProtoWireType.Len && w.TryBytes(out var n))
            {
                name = Utf8(n);
            }
            else if (field is 5 or 7 && type == ProtoWireType.Len && w.TryBytes(out var d))
            {
                data = d;
                hasData = true;
            }
            else
            {
                w.TrySkip(type);
            }
        }

        if (name is not (OtlpJsonReader.GpuUtil or OtlpJsonReader.FbUsed or OtlpJsonReader.Power))
        {
            if (w.Failed)
            {
                run.Errors.Add(new DropInError(run.Index++, "metric: truncated or malformed protobuf"));
            }
            else
            {
                run.Skipped++;
            }

            return;
        }

        if (w.Failed || !hasData)
        {
            run.Errors.Add(new DropInError(run.Index++, w.Failed ? $"metric '{name}': truncated or malformed protobuf" : $"metric '{name}' is neither a gauge nor a sum"));
            return;
        }

        var points = new ProtoWire(data);
        while (points.TryReadTag(out var field, out var type))
        {
            if (field == 1 && type == ProtoWireType.Len && points.TryBytes(out var dp))
            {
                OtlpJsonReader.CheckRecordBudget(run.Index, "data points");
                var reason = refusal ?? Point(dp, name, resource, run);
                if (reason is null)
                {
                    run.Accepted++;
                }
                else
                {
                    run.Errors.Add(new DropInError(run.Index, $"metric '{name}': {reason}"));
                }

                run.Index++;
            }
            else if (field != 1 || type != ProtoWireType.Len)
            {
                points.TrySkip(type);
            }
        }

        if (points.Failed)
        {
            run.Errors.Add(new DropInError(run.Index++, $"metric '{name}': truncated or malformed data points"));
        }
    }

    private static string? Point(ReadOnlySpan<byte> message, string name, LayeredAttributeDictionary resource, MetricsRun run)
    {
        var attrs = new LayeredAttributeDictionary(resource);
        ulong time = 0, flags = 0;
        var value = double.NaN;
        var w = new ProtoWire(message);
        while (w.TryReadTag(out var field, out var type))
        {
            switch (field)
            {
                case 3 when type == ProtoWireType.Fixed64:
                    w.TryFixed64(out time);
                    break;
                case 4 when type == ProtoWireType.Fixed64 && w.TryFixed64(out var bits):
                    value = BitConverter.UInt64BitsToDouble(bits);
                    break;
                case 6 when type == ProtoWireType.Fixed64 && w.TryFixed64(out var integer):
                    value = unchecked((long)integer);
                    break;
                case 7 when type == ProtoWireType.Len && w.TryBytes(out var kv):
                    if (!TryKeyValue(kv, 0, out var key, out var attr))
                    {
                        return "malformed attribute";
                    }

                    if (key is not null && attr.FlattenAs(key, string.Empty, attrs) is { } refusal)
                    {
                        return refusal;
                    }

                    break;
                case 8 when type == ProtoWireType.Varint:
                    w.TryVarint(out flags);
                    break;
                default:
                    w.TrySkip(type);
                    break;
            }
        }

        if (w.Failed)
        {
            return "truncated or malformed protobuf";
        }

        if (time == 0)
        {
            return "missing required field 'time_unix_nano'";
        }


        if ((flags & NoRecordedValue) != 0)
        {
            value = double.NaN;
        }

        return OtlpJsonReader.AddGpuPoint(name, attrs, (long)(time / 1_000_000UL), value, run.Samples, run.Order);
    }

    private sealed class MetricsRun
    {
        public Dictionary<(string, int, string?, long), GpuSample> Samples { get; } = [];

        public List<(string, int, string?, long)> Order { get; } = [];

        public List<DropInError> Errors { get; } = [];

        public int Index { get; set; }

        public int Accepted { get; set; }

        public int Skipped { get; set; }
    }
}
