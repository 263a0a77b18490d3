using AnomalyZT.Ingest.Flows;

namespace AnomalyZT.Tests.Ingest.Flows;

public sealed class FlowPacketDecoderTests
{
    private const string Exporter = "192.0.2.1";
    private const uint UnixSecs = 1_700_000_000;
    private const long UnixMs = UnixSecs * 1000L;

    /// <summary>softflowd's IPv4 template 1024 (formats.md), 42-byte records.</summary>
    internal static readonly (int, int)[] Softflowd1024 =
    [
        (8, 4), (12, 4), (22, 4), (21, 4), (1, 4), (2, 4), (10, 4), (14, 4),
        (61, 1), (136, 1), (7, 2), (11, 2), (4, 1), (6, 1), (60, 1), (5, 1),
    ];

    /// <summary>softflowd's IPv6 template 2048: the same with 16-byte addresses (27/28).</summary>
    internal static readonly (int, int)[] Softflowd2048 =
    [
        (27, 16), (28, 16), (22, 4), (21, 4), (1, 4), (2, 4), (10, 4), (14, 4),
        (61, 1), (136, 1), (7, 2), (11, 2), (4, 1), (6, 1), (60, 1), (5, 1),
    ];

    internal static PacketWriter Softflowd1024Record(PacketWriter w, string src, string dst, uint first, uint last, uint bytes, uint packets, int sport, int dport, int proto) =>
        w.Ip(src).Ip(dst).U32(first).U32(last).U32(bytes).U32(packets).U32(1).U32(2)
            .U8(0).U8(2).U16(sport).U16(dport).U8(proto).U8(0x1b).U8(4).U8(0);

    internal static PacketWriter Softflowd2048Record(PacketWriter w, string src, string dst, uint first, uint last, uint bytes, uint packets, int sport, int dport, int proto) =>
        w.Ip(src).Ip(dst).U32(first).U32(last).U32(bytes).U32(packets).U32(1).U32(2)
            .U8(0).U8(2).U16(sport).U16(dport).U8(proto).U8(0x1b).U8(6).U8(0);

    internal static byte[] V5Packet(int sampling = 0)
    {
        // Header: version, count, SysUptime, unix_secs, unix_nsecs, flow_sequence, engine type/id, sampling.
        var w = new PacketWriter().U16(5).U16(2).U32(10_000).U32(UnixSecs).U32(0).U32(7).U8(0).U8(0).U16(sampling);
        V5Record(w, "10.0.0.1", "10.0.0.2", 4_000, 9_000, 12, 3400, 40000, 443, 6);
        V5Record(w, "10.0.0.3", "8.8.8.8", 9_500, 9_500, 1, 76, 5353, 53, 17);
        return w.ToArray();
    }

    internal static byte[] V9Packet()
    {
        var w = PacketWriter.V9(2, 10_000, UnixSecs, 1, 0)
            .Set(0).Template(1024, Softflowd1024).EndSet()
            .Set(1024);
        Softflowd1024Record(w, "10.1.0.1", "10.1.0.2", 4_000, 9_000, 5000, 10, 51000, 22, 6);
        return w.EndSet().ToArray();
    }

    internal static byte[] IpfixPacket()
    {
        // Template 300: source v4, an enterprise field (4 bytes), a variable-length string, dest v4,
        // protocol, ports, octets, packets, flowStart/EndMilliseconds.
        var w = PacketWriter.Ipfix(UnixSecs, 0, 5)
            .Set(2)
            .U16(300).U16(10)
            .U16(8).U16(4)
            .U16(0x8000 | 12).U16(4).U32(9999)
            .U16(82).U16(65535)
            .U16(12).U16(4)
            .U16(4).U16(1)
            .U16(7).U16(2)
            .U16(11).U16(2)
            .U16(1).U16(8)
            .U16(2).U16(8)
            .U16(152).U16(8)
            .EndSet()
            .Set(300)
            .Ip("10.2.0.1").Ip("203.0.113.99").U8(4).Raw("eth0"u8.ToArray()).Ip("10.2.0.2").U8(17).U16(1234).U16(53)
            .U64(600).U64(4).U64((ulong)UnixMs - 2_000);
        var longName = new byte[300];
        Array.Fill(longName, (byte)'x');
        w.Ip("10.2.0.3").Ip("203.0.113.99").U8(255).U16(300).Raw(longName).Ip("10.2.0.4").U8(6).U16(4321).U16(80)
            .U64(1_000_000).U64(800).U64((ulong)UnixMs - 1_000);
        return w.EndSet().ToArray();
    }

    private static void V5Record(PacketWriter w, string src, string dst, uint first, uint last, uint packets, uint octets, int sport, int dport, int proto) =>
        w.Ip(src).Ip(dst).Ip("0.0.0.0").U16(1).U16(2).U32(packets).U32(octets).U32(first).U32(last)
            .U16(sport).U16(dport).U8(0).U8(0x12).U8(proto).U8(0).U16(0).U16(0).U8(24).U8(24).U16(0);

    [Fact]
    public void Decode_V5TwoRecords_ByteExact120AndFieldsMapped()
    {
        var packet = V5Packet();
        Assert.Equal(120, packet.Length);

        var result = new FlowPacketDecoder().Decode(packet, Exporter);

        Assert.Equal(FlowDatagramStatus.Accepted, result.Status);
        Assert.Equal(5, result.Version);
        Assert.Equal(2, result.Events.Count);
        var f = result.Events[0];
        Assert.Equal(UnixMs - 10_000 + 4_000, f.TimestampMs);
        Assert.Equal(("10.0.0.1", 40000, "10.0.0.2", 443, (byte)6), (f.SrcIp, f.SrcPort, f.DstIp, f.DstPort, f.Protocol));
        Assert.Equal((3400L, 0L, 12L, 5000L), (f.OrigBytes, f.RespBytes, f.Packets, f.DurationMs));
        Assert.Equal(Exporter, f.Exporter);
        Assert.Equal(("8.8.8.8", 53, (byte)17, 0L), (result.Events[1].DstIp, result.Events[1].DstPort, result.Events[1].Protocol, result.Events[1].DurationMs));
    }

    [Fact]
    public void Decode_V5HeaderSampling_ScalesBytesAndPackets()
    {
        // Mode 01 (deterministic), interval 100.
        var result = new FlowPacketDecoder().Decode(V5Packet((1 << 14) | 100), Exporter);

        Assert.Equal((340_000L, 1200L), (result.Events[0].OrigBytes, result.Events[0].Packets));
    }

    [Fact]
    public void Decode_V5Truncated_RejectedWithReason()
    {
        var decoder = new FlowPacketDecoder();
        var result = decoder.Decode(V5Packet().AsSpan(0, 100), Exporter);

        Assert.Equal(FlowDatagramStatus.Rejected, result.Status);
        Assert.Contains("need 120 bytes", result.Reason, StringComparison.Ordinal);
        Assert.Empty(result.Events);
        Assert.Equal(1, decoder.Totals.DatagramsRejected);
    }

    [Fact]
    public void Decode_V9SoftflowdTemplateThenData_SamePacket()
    {
        var packet = V9Packet();
        Assert.Equal(20 + (4 + 4 + (16 * 4)) + (4 + 42 + 2), packet.Length);

        var result = new FlowPacketDecoder().Decode(packet, Exporter);

        Assert.Equal(FlowDatagramStatus.Accepted, result.Status);
        var f = Assert.Single(result.Events);
        Assert.Equal(UnixMs - 6_000, f.TimestampMs);
        Assert.Equal(("10.1.0.1", 51000, "10.1.0.2", 22, (byte)6), (f.SrcIp, f.SrcPort, f.DstIp, f.DstPort, f.Protocol));
        Assert.Equal((5000L, 10L, 5000L), (f.OrigBytes, f.Packets, f.DurationMs));
        Assert.Equal(1, result.Counters.TemplatesLearned);
    }

    [Fact]
    public void Decode_V9DataBeforeTemplate_BufferedThenReplayed()
    {
        var decoder = new FlowPacketDecoder();
        var data = PacketWriter.V9(2, 10_000, UnixSecs, 1, 0).Set(1024);
        Softflowd1024Record(data, "10.1.0.1", "10.1.0.2", 4_000, 9_000, 5000, 10, 51000, 22, 6);
        Softflowd1024Record(data, "10.1.0.3", "10.1.0.4", 5_000, 9_000, 700, 7, 51001, 80, 6);
        var first = decoder.Decode(data.EndSet().ToArray(), Exporter);

        Assert.Equal(FlowDatagramStatus.Accepted, first.Status);
        Assert.Empty(first.Events);
        Assert.Equal(1, first.Counters.SetsBuffered);

        var template = PacketWriter.V9(1, 11_000, UnixSecs + 1, 2, 0).Set(0).Template(1024, Softflowd1024).EndSet().ToArray();
        var second = decoder.Decode(template, Exporter);

        Assert.Equal(1, second.Counters.SetsReplayed);
        Assert.Equal(2, second.Events.Count);
        // The replayed records keep the time base of the packet they came in.
        Assert.Equal(UnixMs - 6_000, second.Events[0].TimestampMs);
        Assert.Equal("10.1.0.4", second.Events[1].DstIp);

        // A different source id is a different template space.
        var other = PacketWriter.V9(1, 10_000, UnixSecs, 1, 77).Set(1024);
        Softflowd1024Record(other, "10.1.0.1", "10.1.0.2", 4_000, 9_000, 5000, 10, 51000, 22, 6);
        Assert.Equal(1, decoder.Decode(other.EndSet().ToArray(), Exporter).Counters.SetsBuffered);
    }

    [Fact]
    public void Decode_PendingBufferFull_OldestDroppedAndCounted()
    {
        var decoder = new FlowPacketDecoder();
        for (var i = 0; i < 70; i++)
        {
            var data = PacketWriter.V9(1, 10_000, UnixSecs, (uint)i, 0).Set(1024);
            Softflowd1024Record(data, "10.1.0.1", "10.1.0.2", 4_000, 9_000, (uint)i, 1, 51000, 22, 6);
            decoder.Decode(data.EndSet().ToArray(), Exporter);
        }

        Assert.Equal(70, decoder.Totals.SetsBuffered);
        Assert.Equal(6, decoder.Totals.SetsDropped);

        var template = PacketWriter.V9(1, 10_000, UnixSecs, 99, 0).Set(0).Template(1024, Softflowd1024).EndSet().ToArray();
        var result = decoder.Decode(template, Exporter);

        Assert.Equal(64, result.Events.Count);
        Assert.Equal(6L, result.Events[0].OrigBytes); // sets 0..5 were the oldest, dropped
    }

    [Fact]
    public void Decode_V9OptionsTemplate_SkippedAndSamplingIntervalApplied()
    {
        var decoder = new FlowPacketDecoder();
        // Options template 257: scope System (type 1, 4 bytes); options SAMPLING_INTERVAL (34, 4), SAMPLING_ALGORITHM (35, 1).
        var w = PacketWriter.V9(3, 10_000, UnixSecs, 1, 0)
            .Set(1).U16(257).U16(4).U16(8).U16(1).U16(4).U16(34).U16(4).U16(35).U16(1).EndSet()
            .Set(257).U32(0).U32(50).U8(1).EndSet()
            .Set(0).Template(1024, Softflowd1024).EndSet()
            .Set(1024);
        Softflowd1024Record(w, "10.1.0.1", "10.1.0.2", 4_000, 9_000, 5000, 10, 51000, 22, 6);

        var result = decoder.Decode(w.EndSet().ToArray(), Exporter);

        Assert.Equal(FlowDatagramStatus.Accepted, result.Status);
        Assert.Equal(1, result.Counters.RecordsSkipped);
        var f = Assert.Single(result.Events);
        Assert.Equal((250_000L, 500L), (f.OrigBytes, f.Packets));
    }

    [Fact]
    public void Decode_IpfixIpv6Template2048_WithSystemInitOption()
    {
        var decoder = new FlowPacketDecoder();
        const ulong init = (ulong)UnixMs - 60_000;
        // Options template 256: scope observationDomainId (149), then systemInitTimeMilliseconds (160).
        var w = PacketWriter.Ipfix(UnixSecs, 0, 1)
            .Set(3).U16(256).U16(2).U16(1).U16(149).U16(4).U16(160).U16(8).EndSet()
            .Set(256).U32(1).U64(init).EndSet()
            .Set(2).Template(2048, Softflowd2048).EndSet()
            .Set(2048);
        Softflowd2048Record(w, "2001:db8::1", "2001:db8::2", 50_000, 59_000, 9000, 9, 40000, 443, 6);
        var packet = w.EndSet().ToArray();

        var result = decoder.Decode(packet, Exporter);

        Assert.Equal(FlowDatagramStatus.Accepted, result.Status);
        var f = Assert.Single(result.Events);
        Assert.Equal(((long)init + 50_000, 9_000L), (f.TimestampMs, f.DurationMs));
        Assert.Equal(("2001:db8::1", "2001:db8::2", 443), (f.SrcIp, f.DstIp, f.DstPort));
        Assert.Equal(2, result.Counters.TemplatesLearned);
    }

    [Fact]
    public void Decode_IpfixSoftflowd1024WithoutInitTime_EndsAtExportTime()
    {
        var w = PacketWriter.Ipfix(UnixSecs, 0, 0).Set(2).Template(1024, Softflowd1024).EndSet().Set(1024);
        Softflowd1024Record(w, "10.1.0.1", "10.1.0.2", 4_000, 9_000, 5000, 10, 51000, 22, 6);

        var f = Assert.Single(new FlowPacketDecoder().Decode(w.EndSet().ToArray(), Exporter).Events);

        Assert.Equal((UnixMs - 5_000, 5_000L), (f.TimestampMs, f.DurationMs));
    }

    [Fact]
    public void Decode_IpfixVariableLengthAndEnterpriseFields_Skipped()
    {
        var result = new FlowPacketDecoder().Decode(IpfixPacket(), Exporter);

        Assert.Equal(FlowDatagramStatus.Accepted, result.Status);
        Assert.Equal(10, result.Version);
        Assert.Equal(2, result.Events.Count);
        var a = result.Events[0];
        Assert.Equal(("10.2.0.1", "10.2.0.2", (byte)17, 1234, 53, 600L, 4L), (a.SrcIp, a.DstIp, a.Protocol, a.SrcPort, a.DstPort, a.OrigBytes, a.Packets));
        Assert.Equal(UnixMs - 2_000, a.TimestampMs);
        var b = result.Events[1];
        Assert.Equal(("10.2.0.3", "10.2.0.4", 80, 1_000_000L), (b.SrcIp, b.DstIp, b.DstPort, b.OrigBytes));
    }

    [Fact]
    public void Decode_IpfixPacketSamplingOption_ScalesCounts()
    {
        // Options template 400: scope observationDomainId, samplingPacketInterval 1, samplingPacketSpace 9 -> 1 in 10.
        var w = PacketWriter.Ipfix(UnixSecs, 0, 3)
            .Set(3).U16(400).U16(3).U16(1).U16(149).U16(4).U16(305).U16(4).U16(306).U16(4).EndSet()
            .Set(400).U32(3).U32(1).U32(9).EndSet()
            .Set(2).Template(1024, Softflowd1024).EndSet()
            .Set(1024);
        Softflowd1024Record(w, "10.1.0.1", "10.1.0.2", 4_000, 9_000, 5000, 10, 51000, 22, 6);

        var f = Assert.Single(new FlowPacketDecoder().Decode(w.EndSet().ToArray(), Exporter).Events);

        Assert.Equal((50_000L, 100L), (f.OrigBytes, f.Packets));
    }

    [Fact]
    public void Decode_IpfixWithdrawal_LaterDataBuffered()
    {
        var decoder = new FlowPacketDecoder();
        decoder.Decode(PacketWriter.Ipfix(UnixSecs, 0, 0).Set(2).Template(1024, Softflowd1024).EndSet().ToArray(), Exporter);
        var withdraw = decoder.Decode(PacketWriter.Ipfix(UnixSecs, 0, 0).Set(2).U16(1024).U16(0).EndSet().ToArray(), Exporter);
        var data = PacketWriter.Ipfix(UnixSecs, 0, 0).Set(1024);
        Softflowd1024Record(data, "10.1.0.1", "10.1.0.2", 4_000, 9_000, 5000, 10, 51000, 22, 6);

        var result = decoder.Decode(data.EndSet().ToArray(), Exporter);

        Assert.Equal(1, withdraw.Counters.TemplatesWithdrawn);
        Assert.Empty(result.Events);
        Assert.Equal(1, result.Counters.SetsBuffered);
    }

    [Theory]
    [InlineData(new byte[] { 0, 7, 0, 0 }, "unsupported version 7")]
    [InlineData(new byte[] { 0 }, "shorter than a version field")]
    [InlineData(new byte[] { 0, 9, 0, 1 }, "shorter than the 20-byte header")]
    [InlineData(new byte[] { 0, 10, 0, 15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, "message length 15")]
    [InlineData(new byte[] { 0, 10, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 9 }, "has length 9")]
    [InlineData(new byte[] { 0, 10, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 3 }, "has length 3")]
    [InlineData(new byte[] { 0, 10, 0, 24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 8, 1, 0, 0, 9 }, "declares 9 fields")]
    [InlineData(new byte[] { 0, 10, 0, 24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 8, 0, 5, 0, 1 }, "template id 5 below 256")]
    [InlineData(new byte[] { 0, 10, 0, 28, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 12, 1, 0, 0, 1, 0, 8, 0, 0 }, "has length 0")]
    [InlineData(new byte[] { 0, 5, 0, 31, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, "outside 1..30")]
    public void Decode_Malformed_RejectedWithReason(byte[] packet, string reason)
    {
        var decoder = new FlowPacketDecoder();

        var result = decoder.Decode(packet, Exporter);

        Assert.Equal(FlowDatagramStatus.Rejected, result.Status);
        Assert.Contains(reason, result.Reason, StringComparison.Ordinal);
        Assert.Equal((0L, 1L), (decoder.Totals.DatagramsAccepted, decoder.Totals.DatagramsRejected));
    }

    [Fact]
    public void Decode_IpfixRecordOverrunsSet_RejectedButEarlierRecordsKept()
    {
        // Template 256: a variable-length field then a source address; the second record's length byte says 200.
        var w = PacketWriter.Ipfix(UnixSecs, 0, 0)
            .Set(2).U16(256).U16(3).U16(82).U16(65535).U16(8).U16(4).U16(12).U16(4).EndSet()
            .Set(256).U8(1).U8((byte)'a').Ip("10.0.0.1").Ip("10.0.0.2").U8(200).Ip("10.0.0.3").Ip("10.0.0.4").EndSet();

        var result = new FlowPacketDecoder().Decode(w.ToArray(), Exporter);

        Assert.Equal(FlowDatagramStatus.Rejected, result.Status);
        Assert.Contains("overruns", result.Reason, StringComparison.Ordinal);
        Assert.Single(result.Events);
        Assert.Equal(1, result.Counters.MalformedRecords);
    }

    [Fact]
    public void Decode_ReservedSetId_IgnoredAndCounted()
    {
        var w = PacketWriter.Ipfix(UnixSecs, 0, 0).Set(100).U32(0).EndSet();

        var result = new FlowPacketDecoder().Decode(w.ToArray(), Exporter);

        Assert.Equal((FlowDatagramStatus.Accepted, 1L), (result.Status, result.Counters.SetsIgnored));
    }
}
