using System.Text.Json;
using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Ingest.Parsing;

/// <summary>Our own schema (docs/generic-format.md): one object per line, <c>"type"</c> access, flow or gpu, snake_case
/// fields. The type may come after the fields, so all fields are recorded and the type is applied at the end.</summary>
internal sealed class GenericParser(FieldMap map, IngestOptions options) : JsonLineParser(map, options)
{
    private const int Type = 0;
    private const int Ts = 1;
    private const int SourceIp = 2;
    private const int UserAgent = 3;
    private const int Action = 4;
    private const int Resource = 5;
    private const int OutcomeText = 6;
    private const int Status = 7;
    private const int BytesIn = 8;
    private const int BytesOut = 9;
    private const int Node = 10;
    private const int Session = 11;
    private const int SrcIp = 12;
    private const int SrcPort = 13;
    private const int DstIp = 14;
    private const int DstPort = 15;
    private const int Proto = 16;
    private const int OrigBytes = 17;
    private const int RespBytes = 18;
    private const int Packets = 19;
    private const int DurationMs = 20;
    private const int Exporter = 21;
    private const int GpuUuid = 22;
    private const int Gpu = 23;
    private const int Util = 24;
    private const int MemUsed = 25;
    private const int Power = 26;
    private const int Pod = 27;
    private const int Namespace = 28;
    private const int Token = 29;

    // Strings by field id; numbers by field id (unused slots stay 0).
    private readonly Utf8Slice[] _text = new Utf8Slice[Token + 1];
    private readonly long[] _count = new long[Token + 1];
    private long _time;
    private bool _hasTime;
    private byte _protocol;
    private int _gpu;
    private double _util;
    private double _memUsed;
    private double _power;

    /// <summary>Fields of all three types.</summary>
    public static readonly FieldSpec[] Fields =
    [
        new("type", Type), new("ts", Ts), new("source_ip", SourceIp), new("user_agent", UserAgent), new("action", Action),
        new("resource", Resource), new("outcome", OutcomeText), new("status", Status), new("bytes_in", BytesIn),
        new("bytes_out", BytesOut), new("node", Node), new("session", Session), new("src_ip", SrcIp),
        new("src_port", SrcPort), new("dst_ip", DstIp), new("dst_port", DstPort), new("proto", Proto),
        new("orig_bytes", OrigBytes), new("resp_bytes", RespBytes), new("packets", Packets),
        new("duration_ms", DurationMs), new("exporter", Exporter), new("gpu_uuid", GpuUuid), new("gpu", Gpu),
        new("util", Util), new("mem_used_mib", MemUsed), new("power_w", Power), new("pod", Pod),
        new("namespace", Namespace), new("token", Token),
    ];

    /// <summary>The documented <c>principal</c> field.</summary>
    public static IReadOnlyList<string> DefaultPrincipalFields { get; } = ["principal"];

    protected override void ResetLine()
    {
        Array.Clear(_text);
        Array.Clear(_count);
        _time = 0;
        _hasTime = false;
        _protocol = 0;
        _gpu = -1;
        _util = _memUsed = _power = double.NaN;
    }

    protected override string? OnField(int fieldId, string name, ref Utf8JsonReader reader)
    {
        switch (fieldId)
        {
            case Ts:
                return ReadTimestamp(ref reader, name, out _time, out _hasTime);
            case SrcPort or DstPort:
                var portReason = ReadPort(ref reader, name, out var port);
                _count[fieldId] = port;
                return portReason;
            case Status or BytesIn or BytesOut or OrigBytes or RespBytes or Packets or DurationMs:
                var reason = ReadCount(ref reader, name, out _count[fieldId]);
                return reason ?? (fieldId == Status && _count[fieldId] > 999 ? $"field '{name}' is {_count[fieldId]}; a status must be 0-999" : null);
            case Proto:
                return FlowProtocols.Read(ref reader, name, ref _protocol);
            case Gpu:
                return GpuParser.ReadGpuIndex(ref reader, name, out _gpu);
            case Util:
                return GpuParser.ReadReading(ref reader, name, out _util);
            case MemUsed:
                return GpuParser.ReadReading(ref reader, name, out _memUsed);
            case Power:
                return GpuParser.ReadReading(ref reader, name, out _power);
            default:
                return CaptureString(ref reader, name, out _text[fieldId]);
        }
    }

    protected override LineStatus Complete(ReadOnlySpan<byte> line, out EngineEvent evt, out string? reason)
    {
        evt = default;
        var type = _text[Type];
        if (type.IsAbsent)
        {
            reason = "missing required field 'type'";
            return LineStatus.Rejected;
        }

        if (!_hasTime)
        {
            reason = "missing required field 'ts'";
            return LineStatus.Rejected;
        }

        if (TextEqualsLower(type, line, "access"u8))
        {
            return CompleteAccess(line, out evt, out reason);
        }

        if (TextEqualsLower(type, line, "flow"u8))
        {
            reason = _text[SrcIp].IsAbsent ? "missing required field 'src_ip'"
                : _text[DstIp].IsAbsent ? "missing required field 'dst_ip'"
                : null;
            if (reason is not null)
            {
                return LineStatus.Rejected;
            }

            evt = EngineEvent.From(new FlowEvent(
                _time, Text(_text[SrcIp], line)!, (int)_count[SrcPort], Text(_text[DstIp], line)!, (int)_count[DstPort],
                _protocol, _count[OrigBytes], _count[RespBytes], _count[Packets], _count[DurationMs], Text(_text[Exporter], line)));
            return LineStatus.Event;
        }

        if (TextEqualsLower(type, line, "gpu"u8))
        {
            if (_text[Node].IsAbsent)
            {
                reason = "missing required field 'node'";
                return LineStatus.Rejected;
            }

            reason = null;
            evt = EngineEvent.From(new GpuSample(
                _time, Text(_text[Node], line)!, Text(_text[GpuUuid], line), _gpu, _util, _memUsed, _power,
                Text(_text[Pod], line), Text(_text[Namespace], line)));
            return LineStatus.Event;
        }

        reason = $"field 'type' is '{Quote(type, line)}'; expected access, flow or gpu";
        return LineStatus.Rejected;
    }

    private LineStatus CompleteAccess(ReadOnlySpan<byte> line, out EngineEvent evt, out string? reason)
    {
        evt = default;
        if (!TryOutcome(_text[OutcomeText], line, out var outcome))
        {
            reason = $"field 'outcome' is '{Quote(_text[OutcomeText], line)}'; expected success, failure, denied or unknown";
            return LineStatus.Rejected;
        }

        var sourceIp = Text(_text[SourceIp], line);
        var principal = PrincipalText(line);
        var principalSource = PrincipalSource.Field;
        if (principal is null)
        {
            principal = sourceIp;
            principalSource = PrincipalSource.SourceAddress;
        }

        if (principal is null)
        {
            reason = AccessOutcomes.NoPrincipal(PrincipalList);
            return LineStatus.Rejected;
        }

        reason = null;
        evt = EngineEvent.From(new AccessEvent(
            _time, principal, principalSource, sourceIp, Text(_text[UserAgent], line), SharedText(_text[Action], line),
            Text(_text[Resource], line), outcome, (int)_count[Status], _count[BytesIn], _count[BytesOut],
            Text(_text[Node], line), Text(_text[Session], line), Text(_text[Token], line)));
        return LineStatus.Event;
    }

    private bool TryOutcome(in Utf8Slice value, ReadOnlySpan<byte> line, out Outcome outcome)
    {
        if (value.IsAbsent || TextEqualsLower(value, line, "unknown"u8))
        {
            outcome = Outcome.Unknown;
        }
        else if (TextEqualsLower(value, line, "success"u8))
        {
            outcome = Outcome.Success;
        }
        else if (TextEqualsLower(value, line, "failure"u8))
        {
            outcome = Outcome.Failure;
        }
        else if (TextEqualsLower(value, line, "denied"u8))
        {
            outcome = Outcome.Denied;
        }
        else
        {
            outcome = Outcome.Unknown;
            return false;
        }

        return true;
    }
}
