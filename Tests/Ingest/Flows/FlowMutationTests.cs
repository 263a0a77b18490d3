using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Ingest.Flows;

namespace AnomalyZT.Tests.Ingest.Flows;

/// <summary>Random, truncated and bit-flipped variants of valid packets: never an exception, never unbounded work,
/// every datagram counted once.</summary>
public sealed class FlowMutationTests
{
    private const int Variants = 100_000;

    private static readonly string[] VersionNames = ["v5", "v9", "v9-options", "ipfix", "ipfix-v6"];

    public static TheoryData<string> Versions => [.. VersionNames];

    [Theory]
    [MemberData(nameof(Versions))]
    public void Decode_MutatedPackets_NoExceptionBoundedWorkAllCounted(string version)
    {
        var seeds = Seeds(version);
        var random = new Random(0x5EED + Array.IndexOf(VersionNames, version));
        var decoder = new FlowPacketDecoder();
        var events = new List<FlowEvent>();
        long accepted = 0, rejected = 0, flows = 0;
        long allAccepted = 0, allRejected = 0, allFlows = 0;
        for (var i = 0; i < Variants; i++)
        {
            if (i % 2000 == 0)
            {
                decoder = new FlowPacketDecoder(); // keep the domain cap from hiding later variants
                accepted = rejected = flows = 0;
            }

            var input = Mutate(seeds[random.Next(seeds.Length)], random);
            events.Clear();

            var result = decoder.Decode(input, "198.51.100." + random.Next(3), events);

            Assert.True(result.Counters.DatagramsAccepted + result.Counters.DatagramsRejected == 1);
            Assert.Equal(result.Status == FlowDatagramStatus.Accepted, result.Reason is null);
            Assert.InRange(result.Counters.Steps, 0, FlowPacketDecoder.MaxStepsPerDatagram);
            Assert.Equal(result.Counters.Flows, events.Count);
            accepted += result.Counters.DatagramsAccepted;
            rejected += result.Counters.DatagramsRejected;
            flows += events.Count;
            allAccepted += result.Counters.DatagramsAccepted;
            allRejected += result.Counters.DatagramsRejected;
            allFlows += events.Count;
            var totals = decoder.Totals;
            Assert.Equal(accepted + rejected, totals.DatagramsAccepted + totals.DatagramsRejected);
            Assert.Equal(flows, totals.Flows);
        }

        Assert.Equal(Variants, allAccepted + allRejected);
        Assert.True(allAccepted > Variants / 10 && allRejected > Variants / 10 && allFlows > 0, $"{allAccepted} accepted, {allRejected} rejected, {allFlows} flows");
    }

    private static byte[][] Seeds(string version)
    {
        switch (version)
        {
            case "v5":
                return [FlowPacketDecoderTests.V5Packet(), FlowPacketDecoderTests.V5Packet((1 << 14) | 10)];
            case "v9":
                var data = PacketWriter.V9(1, 10_000, 1_700_000_000, 1, 0).Set(1024);
                FlowPacketDecoderTests.Softflowd1024Record(data, "10.1.0.1", "10.1.0.2", 1, 2, 3, 4, 5, 6, 6);
                return [FlowPacketDecoderTests.V9Packet(), data.EndSet().ToArray()];
            case "v9-options":
                var w = PacketWriter.V9(3, 10_000, 1_700_000_000, 1, 0)
                    .Set(1).U16(257).U16(4).U16(8).U16(1).U16(4).U16(34).U16(4).U16(35).U16(1).EndSet()
                    .Set(257).U32(0).U32(50).U8(1).EndSet()
                    .Set(0).Template(1024, FlowPacketDecoderTests.Softflowd1024).EndSet()
                    .Set(1024);
                FlowPacketDecoderTests.Softflowd1024Record(w, "10.1.0.1", "10.1.0.2", 4_000, 9_000, 5000, 10, 51000, 22, 6);
                return [w.EndSet().ToArray()];
            case "ipfix":
                return [FlowPacketDecoderTests.IpfixPacket()];
            default:
                var v6 = PacketWriter.Ipfix(1_700_000_000, 0, 1)
                    .Set(3).U16(256).U16(2).U16(1).U16(149).U16(4).U16(160).U16(8).EndSet()
                    .Set(256).U32(1).U64(1_699_999_000_000).EndSet()
                    .Set(2).Template(2048, FlowPacketDecoderTests.Softflowd2048).EndSet()
                    .Set(2048);
                FlowPacketDecoderTests.Softflowd2048Record(v6, "2001:db8::1", "2001:db8::2", 50_000, 59_000, 9000, 9, 40000, 443, 6);
                return [v6.EndSet().ToArray()];
        }
    }

    private static byte[] Mutate(byte[] seed, Random random)
    {
        var a = (byte[])seed.Clone();
        switch (random.Next(6))
        {
            case 0: // truncate
                return a.AsSpan(0, random.Next(a.Length + 1)).ToArray();
            case 1: // flip 1..8 bits
                for (int i = 0, n = 1 + random.Next(8); i < n; i++)
                {
                    a[random.Next(a.Length)] ^= (byte)(1 << random.Next(8));
                }

                return a;
            case 2: // overwrite a byte, biased to length and count fields near set headers
                a[random.Next(a.Length)] = (byte)(random.Next(4) == 0 ? 0xFF : random.Next(256));
                return a;
            case 3: // random tail after a kept prefix
                var keep = random.Next(a.Length + 1);
                var b = new byte[keep + random.Next(64)];
                a.AsSpan(0, keep).CopyTo(b);
                random.NextBytes(b.AsSpan(keep));
                return b;
            case 4: // flip bits then truncate
                a[random.Next(a.Length)] ^= (byte)(1 << random.Next(8));
                return a.AsSpan(0, random.Next(a.Length + 1)).ToArray();
            default: // unmodified, so templates are learned and data decoded between mutations
                return a;
        }
    }
}
