using System.Text.Json;
using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Ingest.Parsing;

/// <summary>GPU samples as flat JSON with dcgm-exporter names (<c>DCGM_FI_DEV_GPU_UTIL</c>, …); the labels
/// (<c>Hostname</c>, <c>UUID</c>, <c>gpu</c>, <c>pod</c>, …) may sit at the top level or under <c>labels</c>, with
/// both the current and the old label names.</summary>
internal sealed class GpuParser(FieldMap map, IngestOptions options) : JsonLineParser(map, options)
{
    private const int Timestamp = 0;
    private const int Hostname = 1;
    private const int Gpu = 2;
    private const int Uuid = 3;
    private const int Util = 4;
    private const int FbUsed = 5;
    private const int Power = 6;
    private const int Pod = 7;
    private const int Namespace = 8;

    // DCGM writes blank/unsupported readings as sentinels: int64 values near 2^63 (9223372036854775794 in the
    // exporter's README) and fp64 values from 2^47 (DCGM_FP64_BLANK); no real reading comes close to either.
    private const double DcgmBlankThreshold = 140737488355328.0;

    private long _time;
    private bool _hasTime;
    private Utf8Slice _hostname;
    private Utf8Slice _uuid;
    private Utf8Slice _pod;
    private Utf8Slice _namespace;
    private int _gpu;
    private double _util;
    private double _fbUsed;
    private double _power;

    /// <summary>Fields read, with the old label names and the <c>labels.</c> variants.</summary>
    public static readonly FieldSpec[] Fields =
    [
        new("timestamp", Timestamp),
        new("Hostname", Hostname), new("hostname", Hostname), new("labels.Hostname", Hostname), new("labels.hostname", Hostname),
        new("gpu", Gpu), new("labels.gpu", Gpu),
        new("UUID", Uuid), new("uuid", Uuid), new("labels.UUID", Uuid), new("labels.uuid", Uuid),
        new("DCGM_FI_DEV_GPU_UTIL", Util), new("DCGM_FI_DEV_FB_USED", FbUsed), new("DCGM_FI_DEV_POWER_USAGE", Power),
        new("pod", Pod), new("pod_name", Pod), new("labels.pod", Pod), new("labels.pod_name", Pod),
        new("namespace", Namespace), new("pod_namespace", Namespace), new("labels.namespace", Namespace),
        new("labels.pod_namespace", Namespace),
    ];

    protected override void ResetLine()
    {
        _hasTime = false;
        _time = 0;
        _hostname = _uuid = _pod = _namespace = default;
        _gpu = -1;
        _util = _fbUsed = _power = double.NaN;
    }

    protected override string? OnField(int fieldId, string name, ref Utf8JsonReader reader) => fieldId switch
    {
        Timestamp => ReadTimestamp(ref reader, name, out _time, out _hasTime),
        Hostname => CaptureString(ref reader, name, out _hostname),
        Gpu => ReadGpuIndex(ref reader, name, out _gpu),
        Uuid => CaptureString(ref reader, name, out _uuid),
        Util => ReadReading(ref reader, name, out _util),
        FbUsed => ReadReading(ref reader, name, out _fbUsed),
        Power => ReadReading(ref reader, name, out _power),
        Pod => CaptureString(ref reader, name, out _pod),
        Namespace => CaptureString(ref reader, name, out _namespace),
        _ => null,
    };

    protected override LineStatus Complete(ReadOnlySpan<byte> line, out EngineEvent evt, out string? reason)
    {
        evt = default;
        reason = !_hasTime ? "missing required field 'timestamp'"
            : _hostname.IsAbsent ? "missing required field 'Hostname' (or 'hostname')"
            : null;
        if (reason is not null)
        {
            return LineStatus.Rejected;
        }

        evt = EngineEvent.From(new GpuSample(
            _time,
            Text(_hostname, line)!,
            Text(_uuid, line),
            _gpu,
            _util,
            _fbUsed,
            _power,
            Text(_pod, line),
            Text(_namespace, line)));
        return LineStatus.Event;
    }

    /// <summary>A reading; null, absent and the DCGM blank sentinels are NaN.</summary>
    internal static string? ReadReading(ref Utf8JsonReader reader, string name, out double value)
    {
        var reason = ReadNumber(ref reader, name, out value, out var present);
        if (!present || value >= DcgmBlankThreshold)
        {
            value = double.NaN;
        }

        return reason;
    }

    /// <summary>A GPU index, <c>0</c> or <c>"0"</c>; -1 when absent.</summary>
    internal static string? ReadGpuIndex(ref Utf8JsonReader reader, string name, out int index)
    {
        index = -1;
        var reason = ReadNumber(ref reader, name, out var value, out var present);
        if (reason is not null || !present)
        {
            return reason;
        }

        if (value < 0 || value > int.MaxValue || value != Math.Floor(value))
        {
            return $"field '{name}' is not a GPU index";
        }

        index = (int)value;
        return null;
    }
}
