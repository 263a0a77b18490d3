namespace AnomalyZT.Ingest.Flows;

/// <summary>What a template field means to the decoder; decided once per template so records only switch on a byte.</summary>
internal enum FieldKind : byte
{
    Ignore = 0,
    SrcV4,
    DstV4,
    SrcV6,
    DstV6,
    SrcPort,
    DstPort,
    Protocol,
    Octets,
    Packets,
    RevOctets,
    RevPackets,
    StartUptime,
    EndUptime,
    StartSec,
    EndSec,
    StartMs,
    EndMs,
    StartNtp,
    EndNtp,
    StartDeltaUs,
    EndDeltaUs,
    DurationMs,
    DurationUs,
    SamplingInterval,
    SamplingPacketInterval,
    SamplingPacketSpace,
    SystemInitMs,
}

/// <summary>One field specifier of a template.</summary>
internal readonly record struct FlowField(ushort Length, FieldKind Kind);

/// <summary>A learned (options) template.</summary>
internal sealed class FlowTemplate
{
    /// <summary>Field length meaning "variable" in IPFIX (RFC 7011 §7).</summary>
    public const ushort VariableLength = 65535;

    public FlowTemplate(FlowField[] fields, bool isOptions, bool ipfix)
    {
        Fields = fields;
        IsOptions = isOptions;
        var min = 0;
        foreach (var f in fields)
        {
            min += ipfix && f.Length == VariableLength ? 1 : f.Length;
        }

        MinRecordLength = min;
    }

    public FlowField[] Fields { get; }

    public bool IsOptions { get; }

    /// <summary>Smallest record this template can describe (variable-length fields count 1); at least 1.</summary>
    public int MinRecordLength { get; }

    /// <summary>Information element ids (IANA; NetFlow v9 field types share the numbers) to kinds.</summary>
    public static FieldKind KindOf(int id, uint enterprise, int length, bool ipfix)
    {
        if (ipfix && length == VariableLength)
        {
            return FieldKind.Ignore;
        }

        var counter = length is >= 1 and <= 8;
        if (enterprise == 29305)
        {
            // RFC 5103 reverse information elements: the responder's side of a biflow.
            return id switch
            {
                1 when counter => FieldKind.RevOctets,
                2 when counter => FieldKind.RevPackets,
                _ => FieldKind.Ignore,
            };
        }

        if (enterprise != 0)
        {
            return FieldKind.Ignore;
        }

        return id switch
        {
            8 when length == 4 => FieldKind.SrcV4,
            12 when length == 4 => FieldKind.DstV4,
            27 when length == 16 => FieldKind.SrcV6,
            28 when length == 16 => FieldKind.DstV6,
            7 when length is 1 or 2 => FieldKind.SrcPort,
            11 when length is 1 or 2 => FieldKind.DstPort,
            4 when length == 1 => FieldKind.Protocol,
            1 or 85 or 231 when counter => FieldKind.Octets,
            2 or 86 or 298 when counter => FieldKind.Packets,
            232 when counter => FieldKind.RevOctets,
            299 when counter => FieldKind.RevPackets,
            22 when length == 4 => FieldKind.StartUptime,
            21 when length == 4 => FieldKind.EndUptime,
            150 when length == 4 => FieldKind.StartSec,
            151 when length == 4 => FieldKind.EndSec,
            152 when length == 8 => FieldKind.StartMs,
            153 when length == 8 => FieldKind.EndMs,
            154 or 156 when length == 8 => FieldKind.StartNtp,
            155 or 157 when length == 8 => FieldKind.EndNtp,
            158 when length == 4 => FieldKind.StartDeltaUs,
            159 when length == 4 => FieldKind.EndDeltaUs,
            161 when counter => FieldKind.DurationMs,
            162 when counter => FieldKind.DurationUs,
            34 or 50 when counter => FieldKind.SamplingInterval,
            305 when counter => FieldKind.SamplingPacketInterval,
            306 when counter => FieldKind.SamplingPacketSpace,
            160 when length == 8 => FieldKind.SystemInitMs,
            _ => FieldKind.Ignore,
        };
    }
}
