using AnomalyZT.Grains.Config;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Grains.Runtime;

namespace AnomalyZT.Tests.Grains;

public sealed class NodeNoveltyTests
{
    private static readonly long T0 = new DateTimeOffset(2026, 11, 20, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    private static RoutedEvent Flow(long ts, string dst) =>
        new(new EntityKey(EntityKind.Node, "data-node-01"), EventRole.FlowSource,
            EngineEvent.From(new FlowEvent(ts, "10.0.2.21", 40000, dst, 443, 6, 1000, 2000, 10, 100, null)));

    [Fact]
    public void Advance_NewDestinationsAfterWarmup_YieldNoveltyFinding()
    {
        var p = new Partition(0, DetectionConfig.Default);
        var findings = new List<Finding>();
        for (var b = 0; b < 40; b++)
        {
            var ts = T0 + (b * 600_000L);
            p.Apply(Flow(ts, "10.0.9.10"));
            p.Advance(ts, findings);
        }

        var scan = T0 + (40 * 600_000L);
        for (var i = 0; i < 50; i++)
        {
            p.Apply(Flow(scan + i, "10.0.40." + i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        p.Advance(scan + 3_600_000, findings);
        var novelty = Assert.Single(findings, f => f.Feature == "new_destination");
        Assert.Equal(50, novelty.Observed);
        Assert.Contains(findings, f => f.Feature == "distinct_destinations");
    }
}
