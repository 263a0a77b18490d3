using System.Text.Json;
using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Ingest.Parsing;

/// <summary>Zeek conn.log, either JSON lines or the TSV log with its <c>#</c> header; the choice is made per line
/// (a line whose first non-blank byte is <c>{</c> is JSON), so one body may mix them.</summary>
internal sealed partial class ZeekConnParser(FieldMap map, IngestOptions options) : JsonLineParser(map, options)
{
    private const int Ts = 0;
    private const int OrigHost = 1;
    private const int OrigPort = 2;
    private const int RespHost = 3;
    private const int RespPort = 4;
    private const int Proto = 5;
    private const int Duration = 6;
    private const int OrigBytes = 7;
    private const int RespBytes = 8;
    private const int OrigPackets = 9;
    private const int RespPackets = 10;

    private long _time;
    private bool _hasTime;
    private Utf8Slice _origHost;
    private Utf8Slice _respHost;
    private int _origPort;
    private int _respPort;
    private byte _protocol;
    private double _durationSeconds;
    private long _origBytes;
    private long _respBytes;
    private long _origPackets;
    private long _respPackets;

    /// <summary>conn.log fields read; the same names are the TSV <c>#fields</c> column names.</summary>
    public static readonly FieldSpec[] Fields =
    [
        new("ts", Ts), new("id.orig_h", OrigHost), new("id.orig_p", OrigPort), new("id.resp_h", RespHost),
        new("id.resp_p", RespPort), new("proto", Proto), new("duration", Duration), new("orig_bytes", OrigBytes),
        new("resp_bytes", RespBytes), new("orig_pkts", OrigPackets), new("resp_pkts", RespPackets),
    ];

    // After Fields: static initializers of a partial class run in file order only within one file.
    private static readonly byte[][] ColumnNames = BuildColumnNames();

    public override LineStatus Parse(ReadOnlySpan<byte> line, out EngineEvent evt, out string? reason)
    {
        var first = line.IndexOfAnyExcept((byte)' ', (byte)'\t');
        if (first >= 0 && line[first] == (byte)'{')
        {
            return base.Parse(line, out evt, out reason);
        }

        evt = default;
        return first >= 0 && line[first] == (byte)'#'
            ? ParseHeader(line[first..], out reason)
            : ParseRow(line, out evt, out reason);
    }

    protected override void ResetLine()
    {
        _hasTime = false;
        _time = _origBytes = _respBytes = _origPackets = _respPackets = 0;
        _origHost = _respHost = default;
        _origPort = _respPort = 0;
        _protocol = 0;
        _durationSeconds = 0;
    }

    protected override string? OnField(int fieldId, string name, ref Utf8JsonReader reader)
    {
        switch (fieldId)
        {
            case Ts:
                return ReadTimestamp(ref reader, name, out _time, out _hasTime);
            case OrigHost:
                return CaptureString(ref reader, name, out _origHost);
            case RespHost:
                return CaptureString(ref reader, name, out _respHost);
            case OrigPort:
                return ReadPort(ref reader, name, out _origPort);
            case RespPort:
                return ReadPort(ref reader, name, out _respPort);
            case Proto:
                return FlowProtocols.Read(ref reader, name, ref _protocol);
            case Duration:
                var reason = ReadNumber(ref reader, name, out var seconds, out var present);
                _durationSeconds = present ? seconds : 0;
                return reason ?? (seconds < 0 ? $"field '{name}' is negative" : null);
            case OrigBytes:
                return ReadCount(ref reader, name, out _origBytes);
            case RespBytes:
                return ReadCount(ref reader, name, out _respBytes);
            case OrigPackets:
                return ReadCount(ref reader, name, out _origPackets);
            case RespPackets:
                return ReadCount(ref reader, name, out _respPackets);
            default:
                return null;
        }
    }

    protected override LineStatus Complete(ReadOnlySpan<byte> line, out EngineEvent evt, out string? reason)
    {
        evt = default;
        reason = !_hasTime ? "missing required field 'ts'"
            : _origHost.IsAbsent ? "missing required field 'id.orig_h'"
            : _respHost.IsAbsent ? "missing required field 'id.resp_h'"
            : null;
        if (reason is not null)
        {
            return LineStatus.Rejected;
        }

        evt = EngineEvent.From(new FlowEvent(
            _time,
            Text(_origHost, line)!,
            _origPort,
            Text(_respHost, line)!,
            _respPort,
            _protocol,
            _origBytes,
            _respBytes,
            _origPackets + _respPackets,
            (long)Math.Round(_durationSeconds * 1000.0),
            Exporter: null));
        return LineStatus.Event;
    }
}
