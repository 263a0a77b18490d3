using AnomalyZT.Silo.Receivers;
using AnomalyZT.Silo.Receivers.Flows;
using AnomalyZT.Tests.Ingest.Flows;

namespace AnomalyZT.Tests.Receivers.Flows;

/// <summary>The collector over a real UDP socket with hand-built datagrams: who may send, what is malformed, templates
/// that arrive late, and rate limits.</summary>
public sealed class NetFlowCollectorTests
{
    private static uint Now => (uint)DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    [Fact]
    public async Task Datagram_FromSourceNotAllowed_IsDroppedAndCountedUnderUnknownSource()
    {
        await using var silo = await NetFlowSilo.StartAsync();

        await silo.SendAsync("127.0.0.5", V5("127.0.0.1", "127.0.0.2", 1000));
        await silo.SendAsync("127.0.0.1", V5("127.0.0.1", "127.0.0.2", 700));

        var refused = await silo.WaitForCountAsync(NetFlowCollector.UnknownSource, "netflow-v5", r => r.Rejected >= 1);
        Assert.Equal(1, refused.Rejected);
        Assert.Equal(0, refused.Accepted);
        var taken = await silo.WaitForCountAsync(NetFlowSilo.Shipper, "netflow-v5", r => r.Accepted >= 1);
        Assert.Equal(1, taken.Accepted);
        Assert.Equal(1, silo.Collector.UnknownSourceDatagrams);
        Assert.Equal(1, (await silo.ReceiverRowAsync(NetFlowCollector.UnknownSource, "netflow-v5")).GetProperty("rejected").GetInt64());

        // Only the allowed exporter's flow reached the grain; the kernel dropped nothing (Linux reads /proc/net/udp).
        Assert.Equal(700, (await silo.NodeBytesAsync("nf-server")).Ingress);
        if (OperatingSystem.IsLinux())
        {
            Assert.Equal(0L, silo.Collector.KernelDrops);
        }
    }

    [Fact]
    public async Task Stop_FlushesTheOpenBatch()
    {
        await using var silo = await NetFlowSilo.StartAsync(new Dictionary<string, string?> { ["NetFlow:FlushInterval"] = "00:01:00" });
        await silo.SendAsync("127.0.0.1", V5("127.0.0.1", "127.0.0.2", 10, records: 3));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (silo.Collector.DecoderTotals.Flows < 3 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        // Decoded but held: the batch is neither full nor a minute old.
        Assert.Equal(3, silo.Collector.DecoderTotals.Flows);
        Assert.Equal(0, silo.Stats.Total(NetFlowCollector.ReceiverName).Accepted);

        await silo.Server.App.StopAsync(TestContext.Current.CancellationToken);
        Assert.Equal(3, silo.Stats.Total(NetFlowCollector.ReceiverName).Accepted);
    }

    [Fact]
    public async Task TruncatedAndGarbageDatagrams_BecomeDeadLetters_AndAreCountedRejected()
    {
        await using var silo = await NetFlowSilo.StartAsync();
        var whole = V5("127.0.0.1", "127.0.0.2", 100);

        await silo.SendAsync("127.0.0.1", whole[..40], [0xde, 0xad, 0xbe, 0xef, 0x01]);

        var row = await silo.WaitForCountAsync(NetFlowSilo.Shipper, "netflow-v5", r => r.Rejected >= 1);
        Assert.Equal(1, row.Rejected);
        Assert.Equal(1, (await silo.WaitForCountAsync(NetFlowSilo.Shipper, "unknown", r => r.Rejected >= 1)).Rejected);
        var letters = await silo.DeadLettersAsync(NetFlowCollector.DeadLetterSource, 2);
        Assert.Equal(2, letters.Length);
        Assert.Contains(letters, l => l.GetProperty("reason").GetString()!.Contains("v5: 1 records need 72 bytes, datagram has 40", StringComparison.Ordinal));
        Assert.Contains(letters, l => l.GetProperty("reason").GetString()!.Contains("unsupported version", StringComparison.Ordinal));
        Assert.All(letters, l => Assert.Contains("127.0.0.1 (" + NetFlowSilo.Shipper + ")", l.GetProperty("reason").GetString(), StringComparison.Ordinal));
        Assert.Equal(2, silo.Collector.DecoderTotals.DatagramsRejected);
    }

    [Fact]
    public async Task V9DataBeforeTemplate_IsBufferedThenReplayed_AndReachesTheGrain()
    {
        await using var silo = await NetFlowSilo.StartAsync();
        var uptime = 100_000u;
        var data = PacketWriter.V9(1, uptime, Now, 1, 7).Set(1024);
        FlowPacketDecoderTests.Softflowd1024Record(data, "127.0.0.1", "127.0.0.3", uptime - 2000, uptime - 1000, 4321, 3, 50000, 53, 17);
        await silo.SendAsync("127.0.0.1", data.EndSet().ToArray());

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (silo.Collector.DecoderTotals.SetsBuffered < 1 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        Assert.Equal(1, silo.Collector.DecoderTotals.SetsBuffered);
        Assert.Equal(0, silo.Collector.DecoderTotals.Flows);

        var template = PacketWriter.V9(1, uptime + 10, Now, 2, 7).Set(0).Template(1024, FlowPacketDecoderTests.Softflowd1024).EndSet().ToArray();
        await silo.SendAsync("127.0.0.1", template);

        var row = await silo.WaitForCountAsync(NetFlowSilo.Shipper, "netflow-v9", r => r.Accepted >= 1);
        Assert.Equal(1, row.Accepted);
        Assert.Equal(0, row.Ignored);
        var totals = silo.Collector.DecoderTotals;
        Assert.Equal((1, 0), (totals.SetsReplayed, totals.SetsDropped));
        Assert.Equal(4321, (await silo.NodeBytesAsync("nf-udp")).Ingress);
        Assert.Equal(4321, (await silo.NodeBytesAsync("nf-client")).Egress);
    }

    [Fact]
    public async Task Shipper_OverItsRateLimit_HasFlowsCountedLimited()
    {
        await using var silo = await NetFlowSilo.StartAsync(new Dictionary<string, string?>
        {
            [$"Ingest:RateLimit:Shippers:{NetFlowSilo.Shipper}:EventsPerSecond"] = "0.001",
            [$"Ingest:RateLimit:Shippers:{NetFlowSilo.Shipper}:Burst"] = "1",
        });

        // The first datagram empties the bucket (and takes it into debt); the second finds it empty.
        await silo.SendAsync("127.0.0.1", V5("127.0.0.1", "127.0.0.2", 10, records: 2), V5("127.0.0.1", "127.0.0.2", 10, records: 2));

        var row = await silo.WaitForCountAsync(NetFlowSilo.Shipper, "netflow-v5", r => r.Accepted + r.Limited >= 4);
        Assert.Equal((2, 2), (row.Accepted, row.Limited));
    }

    [Fact]
    public void Validator_EnabledWithoutSources_SaysWhatIsMissing()
    {
        var errors = NetFlowOptionsValidator.Check(new NetFlowOptions
        {
            Enabled = true,
            Address = "not-an-ip",
            Port = 70000,
            MaxBatch = 0,
            AllowedSources = [],
        });

        Assert.Contains(errors, e => e.StartsWith("NetFlow:AllowedSources is empty;", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("NetFlow:Address is 'not-an-ip';", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("NetFlow:Port is 70000;", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("NetFlow:MaxBatch is 0;", StringComparison.Ordinal));
        Assert.Empty(NetFlowOptionsValidator.Check(new NetFlowOptions { Enabled = false, AllowedSources = [] }));
        Assert.Contains(NetFlowOptionsValidator.Check(new NetFlowOptions { Enabled = true, AllowedSources = [new AllowedSource { Name = "x", Cidr = "10.0.0.0/33" }] }),
            e => e.Contains("Cidr is '10.0.0.0/33'", StringComparison.Ordinal));
    }

    /// <summary>A v5 datagram (now, uptime 100 s) of <paramref name="records"/> UDP records of <paramref name="bytes"/> each.</summary>
    internal static byte[] V5(string src, string dst, uint bytes, int records = 1)
    {
        const uint Uptime = 100_000;
        var w = new PacketWriter().U16(5).U16(records).U32(Uptime).U32(Now).U32(0).U32(1).U8(0).U8(0).U16(0);
        for (var i = 0; i < records; i++)
        {
            w.Ip(src).Ip(dst).Ip("0.0.0.0").U16(1).U16(2).U32(1).U32(bytes).U32(Uptime - 1000).U32(Uptime - 500)
                .U16(40000 + i).U16(53).U8(0).U8(0).U8(17).U8(0).U16(0).U16(0).U8(32).U8(32).U16(0);
        }

        return w.ToArray();
    }
}
