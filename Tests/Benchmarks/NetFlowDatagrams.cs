using System.Buffers.Binary;

namespace AnomalyZT.Benchmarks;

/// <summary>Export datagrams for <see cref="NetFlowLoad"/>: 30 IPv4 UDP flow records each, sources spread over
/// 10.77.0.0/16 (the load inventory) and destinations over 10.99.0.0/16 (outside it, so each flow reaches one grain).</summary>
internal static class NetFlowDatagrams
{
    public const int RecordsPerDatagram = 30;
    private const int TemplateId = 1024;

    // v9 template: src, dst, sport, dport, proto, tos, tcp flags, direction, in bytes, in packets, first, last: 32 bytes.
    private static readonly (int Type, int Length)[] V9Fields =
        [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (5, 1), (6, 1), (61, 1), (1, 4), (2, 4), (22, 4), (21, 4)];

    // IPFIX template: the same with 8-byte counters and flowStart/EndMilliseconds: 48 bytes.
    private static readonly (int Type, int Length)[] IpfixFields =
        [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (5, 1), (6, 1), (61, 1), (1, 8), (2, 8), (152, 8), (153, 8)];

    /// <summary>The template datagram (null for v5) and <paramref name="count"/> distinct data datagrams.</summary>
    public static (byte[]? Template, byte[][] Data) Build(string version, int count)
    {
        var unixSecs = (uint)DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var data = new byte[count][];
        var flow = 0;
        for (var d = 0; d < count; d++)
        {
            data[d] = version switch
            {
                "v5" => V5(unixSecs, (uint)d, ref flow),
                "v9" => V9Data(unixSecs, (uint)d, ref flow),
                _ => IpfixData(unixSecs, (uint)d, ref flow),
            };
        }

        var template = version switch
        {
            "v5" => null,
            "v9" => V9Template(unixSecs),
            _ => IpfixTemplate(unixSecs),
        };
        return (template, data);
    }

    private static uint Src(int flow) => 0x0A4D0000u | (uint)(flow % 65_000 + 1);

    private static uint Dst(int flow) => 0x0A630000u | (uint)((flow * 7) % 65_000 + 1);

    private static byte[] V5(uint unixSecs, uint sequence, ref int flow)
    {
        const uint Uptime = 3_600_000;
        var b = new byte[24 + (RecordsPerDatagram * 48)];
        var s = b.AsSpan();
        BinaryPrimitives.WriteUInt16BigEndian(s, 5);
        BinaryPrimitives.WriteUInt16BigEndian(s[2..], RecordsPerDatagram);
        BinaryPrimitives.WriteUInt32BigEndian(s[4..], Uptime);
        BinaryPrimitives.WriteUInt32BigEndian(s[8..], unixSecs);
        BinaryPrimitives.WriteUInt32BigEndian(s[16..], sequence * RecordsPerDatagram);
        for (var i = 0; i < RecordsPerDatagram; i++, flow++)
        {
            var r = s.Slice(24 + (i * 48), 48);
            BinaryPrimitives.WriteUInt32BigEndian(r, Src(flow));
            BinaryPrimitives.WriteUInt32BigEndian(r[4..], Dst(flow));
            BinaryPrimitives.WriteUInt32BigEndian(r[16..], 3);                  // packets
            BinaryPrimitives.WriteUInt32BigEndian(r[20..], 1500);               // bytes
            BinaryPrimitives.WriteUInt32BigEndian(r[24..], Uptime - 2000);      // first
            BinaryPrimitives.WriteUInt32BigEndian(r[28..], Uptime - 1000);      // last
            BinaryPrimitives.WriteUInt16BigEndian(r[32..], (ushort)(10_000 + (flow % 50_000)));
            BinaryPrimitives.WriteUInt16BigEndian(r[34..], 53);
            r[38] = 17;
        }

        return b;
    }

    private static byte[] V9Template(uint unixSecs)
    {
        var b = new byte[20 + 4 + 4 + (V9Fields.Length * 4)];
        V9Header(b, 1, unixSecs, 0);
        TemplateSet(b.AsSpan(20), 0, V9Fields);
        return b;
    }

    private static byte[] V9Data(uint unixSecs, uint sequence, ref int flow)
    {
        const int RecordLength = 32;
        var b = new byte[20 + 4 + (RecordsPerDatagram * RecordLength)];
        V9Header(b, RecordsPerDatagram, unixSecs, sequence + 1);
        var set = b.AsSpan(20);
        BinaryPrimitives.WriteUInt16BigEndian(set, TemplateId);
        BinaryPrimitives.WriteUInt16BigEndian(set[2..], (ushort)set.Length);
        for (var i = 0; i < RecordsPerDatagram; i++, flow++)
        {
            var r = set.Slice(4 + (i * RecordLength), RecordLength);
            Common(r, flow);
            BinaryPrimitives.WriteUInt32BigEndian(r[16..], 1500);
            BinaryPrimitives.WriteUInt32BigEndian(r[20..], 3);
            BinaryPrimitives.WriteUInt32BigEndian(r[24..], 3_600_000 - 2000);
            BinaryPrimitives.WriteUInt32BigEndian(r[28..], 3_600_000 - 1000);
        }

        return b;
    }

    private static void V9Header(Span<byte> b, int count, uint unixSecs, uint sequence)
    {
        BinaryPrimitives.WriteUInt16BigEndian(b, 9);
        BinaryPrimitives.WriteUInt16BigEndian(b[2..], (ushort)count);
        BinaryPrimitives.WriteUInt32BigEndian(b[4..], 3_600_000);
        BinaryPrimitives.WriteUInt32BigEndian(b[8..], unixSecs);
        BinaryPrimitives.WriteUInt32BigEndian(b[12..], sequence);
    }

    private static byte[] IpfixTemplate(uint unixSecs)
    {
        var b = new byte[16 + 4 + 4 + (IpfixFields.Length * 4)];
        IpfixHeader(b, unixSecs, 0);
        TemplateSet(b.AsSpan(16), 2, IpfixFields);
        return b;
    }

    private static byte[] IpfixData(uint unixSecs, uint sequence, ref int flow)
    {
        const int RecordLength = 48;
        var b = new byte[16 + 4 + (RecordsPerDatagram * RecordLength)];
        IpfixHeader(b, unixSecs, sequence * RecordsPerDatagram);
        var set = b.AsSpan(16);
        BinaryPrimitives.WriteUInt16BigEndian(set, TemplateId);
        BinaryPrimitives.WriteUInt16BigEndian(set[2..], (ushort)set.Length);
        var endMs = (unixSecs * 1000UL) - 1000;
        for (var i = 0; i < RecordsPerDatagram; i++, flow++)
        {
            var r = set.Slice(4 + (i * RecordLength), RecordLength);
            Common(r, flow);
            BinaryPrimitives.WriteUInt64BigEndian(r[16..], 1500);
            BinaryPrimitives.WriteUInt64BigEndian(r[24..], 3);
            BinaryPrimitives.WriteUInt64BigEndian(r[32..], endMs - 1000);
            BinaryPrimitives.WriteUInt64BigEndian(r[40..], endMs);
        }

        return b;
    }

    private static void IpfixHeader(Span<byte> b, uint exportTime, uint sequence)
    {
        BinaryPrimitives.WriteUInt16BigEndian(b, 10);
        BinaryPrimitives.WriteUInt16BigEndian(b[2..], (ushort)b.Length);
        BinaryPrimitives.WriteUInt32BigEndian(b[4..], exportTime);
        BinaryPrimitives.WriteUInt32BigEndian(b[8..], sequence);
    }

    private static void TemplateSet(Span<byte> set, int setId, (int Type, int Length)[] fields)
    {
        BinaryPrimitives.WriteUInt16BigEndian(set, (ushort)setId);
        BinaryPrimitives.WriteUInt16BigEndian(set[2..], (ushort)set.Length);
        BinaryPrimitives.WriteUInt16BigEndian(set[4..], TemplateId);
        BinaryPrimitives.WriteUInt16BigEndian(set[6..], (ushort)fields.Length);
        for (var i = 0; i < fields.Length; i++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(set[(8 + (i * 4))..], (ushort)fields[i].Type);
            BinaryPrimitives.WriteUInt16BigEndian(set[(10 + (i * 4))..], (ushort)fields[i].Length);
        }
    }

    /// <summary>src, dst, sport, dport, proto, tos, flags, direction: the first 16 bytes of both templates.</summary>
    private static void Common(Span<byte> r, int flow)
    {
        BinaryPrimitives.WriteUInt32BigEndian(r, Src(flow));
        BinaryPrimitives.WriteUInt32BigEndian(r[4..], Dst(flow));
        BinaryPrimitives.WriteUInt16BigEndian(r[8..], (ushort)(10_000 + (flow % 50_000)));
        BinaryPrimitives.WriteUInt16BigEndian(r[10..], 53);
        r[12] = 17;
    }
}
