using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace AnomalyZT.Ingest.Flows;

/// <summary>Sixteen address bytes held inline (no allocation per record).</summary>
[InlineArray(16)]
internal struct Ipv6Bytes
{
    private byte _element0;
}

/// <summary>The fields of one data record the decoder cares about; a stack value reset per record.</summary>
internal struct RecordValues
{
    public Ipv6Bytes Src;
    public Ipv6Bytes Dst;
    public ulong SrcV4;
    public ulong DstV4;
    public bool SrcIsV6;
    public bool DstIsV6;
    public bool HasSrc;
    public bool HasDst;
    public ulong SrcPort;
    public ulong DstPort;
    public ulong Protocol;
    public ulong Octets;
    public ulong Packets;
    public ulong RevOctets;
    public ulong RevPackets;
    public ulong StartUptime;
    public ulong EndUptime;
    public ulong StartSec;
    public ulong EndSec;
    public ulong StartMs;
    public ulong EndMs;
    public ulong StartNtp;
    public ulong EndNtp;
    public ulong StartDeltaUs;
    public ulong EndDeltaUs;
    public ulong DurationMs;
    public ulong DurationUs;
    public ulong SamplingInterval;
    public ulong SamplingPacketInterval;
    public ulong SamplingPacketSpace;
    public ulong SystemInitMs;
    private ulong _present;

    public readonly bool Has(FieldKind kind) => (_present & (1UL << (int)kind)) != 0;

    /// <summary>Packets represented by one sampled packet; 0 when the record says nothing about sampling.</summary>
    public readonly long SamplingRate()
    {
        if (Has(FieldKind.SamplingInterval) && SamplingInterval > 0)
        {
            return (long)Math.Min(SamplingInterval, int.MaxValue);
        }

        if (Has(FieldKind.SamplingPacketInterval) && SamplingPacketInterval > 0)
        {
            // RFC 5476: select `interval` packets out of every `interval + space`.
            var total = Math.Min(SamplingPacketInterval + SamplingPacketSpace, (ulong)int.MaxValue);
            return (long)Math.Max(1, total / SamplingPacketInterval);
        }

        return 0;
    }

    public void Set(FieldKind kind, ReadOnlySpan<byte> value)
    {
        _present |= 1UL << (int)kind;
        switch (kind)
        {
            case FieldKind.SrcV4:
                SrcV4 = BinaryPrimitives.ReadUInt32BigEndian(value);
                SrcIsV6 = false;
                HasSrc = true;
                break;
            case FieldKind.DstV4:
                DstV4 = BinaryPrimitives.ReadUInt32BigEndian(value);
                DstIsV6 = false;
                HasDst = true;
                break;
            case FieldKind.SrcV6:
                value.CopyTo(Src);
                SrcIsV6 = true;
                HasSrc = true;
                break;
            case FieldKind.DstV6:
                value.CopyTo(Dst);
                DstIsV6 = true;
                HasDst = true;
                break;
            case FieldKind.SrcPort: SrcPort = Unsigned(value); break;
            case FieldKind.DstPort: DstPort = Unsigned(value); break;
            case FieldKind.Protocol: Protocol = Unsigned(value); break;
            case FieldKind.Octets: Octets = Unsigned(value); break;
            case FieldKind.Packets: Packets = Unsigned(value); break;
            case FieldKind.RevOctets: RevOctets = Unsigned(value); break;
            case FieldKind.RevPackets: RevPackets = Unsigned(value); break;
            case FieldKind.StartUptime: StartUptime = Unsigned(value); break;
            case FieldKind.EndUptime: EndUptime = Unsigned(value); break;
            case FieldKind.StartSec: StartSec = Unsigned(value); break;
            case FieldKind.EndSec: EndSec = Unsigned(value); break;
            case FieldKind.StartMs: StartMs = Unsigned(value); break;
            case FieldKind.EndMs: EndMs = Unsigned(value); break;
            case FieldKind.StartNtp: StartNtp = Unsigned(value); break;
            case FieldKind.EndNtp: EndNtp = Unsigned(value); break;
            case FieldKind.StartDeltaUs: StartDeltaUs = Unsigned(value); break;
            case FieldKind.EndDeltaUs: EndDeltaUs = Unsigned(value); break;
            case FieldKind.DurationMs: DurationMs = Unsigned(value); break;
            case FieldKind.DurationUs: DurationUs = Unsigned(value); break;
            case FieldKind.SamplingInterval: SamplingInterval = Unsigned(value); break;
            case FieldKind.SamplingPacketInterval: SamplingPacketInterval = Unsigned(value); break;
            case FieldKind.SamplingPacketSpace: SamplingPacketSpace = Unsigned(value); break;
            case FieldKind.SystemInitMs: SystemInitMs = Unsigned(value); break;
            default: break;
        }
    }

    /// <summary>Big-endian unsigned of 1..8 bytes (RFC 7011 §6.2 reduced-size encoding).</summary>
    private static ulong Unsigned(ReadOnlySpan<byte> value)
    {
        ulong v = 0;
        foreach (var b in value)
        {
            v = (v << 8) | b;
        }

        return v;
    }
}
