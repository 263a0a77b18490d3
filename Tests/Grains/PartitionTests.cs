using AnomalyZT.Grains.Config;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Grains.Runtime;

namespace AnomalyZT.Tests.Grains;

public sealed class PartitionTests
{
    private const long Minute = 60_000;
    private static readonly long T0 = new DateTimeOffset(2026, 11, 20, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    private static DetectionConfig Config(int lateness = 60, int warmup = 5) => DetectionConfigLoader.Parse($$"""
        allowed_lateness_seconds: {{lateness}}
        first_seen: { warmup_buckets: {{warmup}} }
        defaults:
          bucket_seconds: 600
          robust_level: { window: 50, warmup: {{warmup}}, threshold: 6 }
        """, "test");

    private static RoutedEvent Access(long ts, string who = "svc-a", long bytesOut = 1000, string ip = "10.0.0.1", string resource = "/data/a") =>
        new(new EntityKey(EntityKind.Identity, who), EventRole.Access,
            EngineEvent.From(new AccessEvent(ts, who, PrincipalSource.Field, ip, "curl/8", "GET", resource, Outcome.Success, 200, 10, bytesOut, null, null)));

    /// <summary>Drives 20 ten-minute buckets of steady traffic, then one bucket with 100× bytes from a new IP.</summary>
    private static (Partition Partition, List<Finding> Findings) RunIncident(DetectionConfig config)
    {
        var p = new Partition(0, config);
        var findings = new List<Finding>();
        for (var b = 0; b < 20; b++)
        {
            for (var i = 0; i < 5; i++)
            {
                var ts = T0 + b * 10 * Minute + i * Minute;
                Assert.True(p.Apply(Access(ts, bytesOut: 100_000 + (i * 1000))));
                p.Advance(ts, findings);
            }
        }

        var spike = T0 + 20 * 10 * Minute;
        p.Apply(Access(spike, bytesOut: 50_000_000, ip: "10.9.9.9"));
        p.Advance(spike + 15 * Minute, findings);
        return (p, findings);
    }

    [Fact]
    public void Advance_BytesSpikeFromNewIp_YieldsLevelAndNoveltyFindings()
    {
        var (_, findings) = RunIncident(Config());
        var level = Assert.Single(findings, f => f.Detector == "robust-level");
        Assert.Equal("bytes_out", level.Feature);
        Assert.Equal(50_000_000, level.Observed);
        Assert.Equal(T0 + 200 * Minute, level.BucketStartMs);
        Assert.True(level.Observed > level.Upper);
        Assert.True(level.Severity >= Severity.High);
        var novelty = Assert.Single(findings, f => f.Detector == "first-seen");
        Assert.Equal("new_source_ip", novelty.Feature);
        Assert.Contains("10.9.9.9", novelty.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Advance_SteadyTraffic_NoFindings()
    {
        var config = Config();
        var p = new Partition(0, config);
        var findings = new List<Finding>();
        var rng = new Random(11);
        for (var b = 0; b < 60; b++)
        {
            for (var i = 0; i < 5; i++)
            {
                var ts = T0 + b * 10 * Minute + i * Minute;
                p.Apply(Access(ts, bytesOut: 100_000 + rng.Next(20_000)));
                p.Advance(ts, findings);
            }
        }

        Assert.Empty(findings);
    }

    [Fact]
    public void Apply_OlderThanWatermark_IsRefusedAndCounted()
    {
        var p = new Partition(0, Config(lateness: 60));
        var findings = new List<Finding>();
        p.Apply(Access(T0 + 30 * Minute));
        p.Advance(T0 + 30 * Minute, findings);
        Assert.Equal(T0 + 29 * Minute, p.WatermarkMs);
        Assert.True(p.Apply(Access(T0 + 29 * Minute + 1))); // within lateness
        Assert.False(p.Apply(Access(T0 + 28 * Minute)));     // too late
        Assert.Equal(1, p.LateEvents);
    }

    [Fact]
    public void Advance_ClosesBucketOnlyAfterEndPlusLateness()
    {
        var p = new Partition(0, Config(lateness: 60));
        var findings = new List<Finding>();
        p.Apply(Access(T0 + Minute));
        p.Advance(T0 + 10 * Minute + 59_000, findings); // watermark = end - 1 s
        Assert.Equal(0, p.Describe(new EntityKey(EntityKind.Identity, "svc-a"))!.Features[0].ClosedBuckets);
        p.Advance(T0 + 11 * Minute, findings);
        Assert.Equal(1, p.Describe(new EntityKey(EntityKind.Identity, "svc-a"))!.Features[0].ClosedBuckets);
    }

    [Fact]
    public void RunIncident_Twice_GivesIdenticalFindings()
    {
        var a = RunIncident(Config()).Findings;
        var b = RunIncident(Config()).Findings;
        Assert.Equal(a, b);
    }

    [Fact]
    public void Restore_FromSnapshots_ContinuesExactlyAsOriginal()
    {
        var config = Config();
        var original = new Partition(0, config);
        var findings = new List<Finding>();
        for (var b = 0; b < 12; b++)
        {
            original.Apply(Access(T0 + b * 10 * Minute, bytesOut: 100_000 + b));
            original.Advance(T0 + b * 10 * Minute, findings);
        }

        var restored = new Partition(0, config);
        foreach (var (key, data) in original.TakeDirtySnapshots())
        {
            restored.Restore(key, data);
        }

        var key0 = new EntityKey(EntityKind.Identity, "svc-a");
        Assert.Equal(original.Describe(key0), restored.Describe(key0), new ViewComparer());
        var fa = new List<Finding>();
        var fb = new List<Finding>();
        foreach (var p in new[] { (original, fa), (restored, fb) })
        {
            p.Item1.Apply(Access(T0 + 12 * 10 * Minute, bytesOut: 90_000_000, ip: "10.1.1.1"));
            p.Item1.Advance(T0 + 14 * 10 * Minute, p.Item2);
        }

        Assert.NotEmpty(fa);
        Assert.Equal(fa, fb);
    }

    [Fact]
    public void Findings_DoNotDependOnWhenTheClockMoves()
    {
        // The same events, with the clock advanced after every event or only once at the end (one big body),
        // must give the same findings: warm-up and novelty are decided by event time, not by delivery.
        var events = new List<RoutedEvent>();
        for (var b = 0; b < 70; b++)
        {
            // The anomaly sits mid-stream, so later events exist when its bucket closes in the one-shot run.
            var anomalous = b == 40;
            events.Add(Access(T0 + b * 10 * Minute, bytesOut: anomalous ? 80_000_000 : 100_000 + b, ip: anomalous ? "10.7.7.7" : "10.0.0.1",
                resource: anomalous ? "/data/secret" : "/data/a"));
        }

        var stepwise = new Partition(0, Config());
        var a = new List<Finding>();
        foreach (var e in events)
        {
            stepwise.Apply(e);
            stepwise.Advance(e.Event.TimestampMs, a);
        }

        stepwise.CloseAll(a);
        var once = new Partition(0, Config());
        var b2 = new List<Finding>();
        foreach (var e in events)
        {
            once.Apply(e);
        }

        once.CloseAll(b2);
        Assert.Contains(a, f => f.Feature == "new_source_ip");
        Assert.Contains(a, f => f.Feature == "new_resource");
        Assert.Contains(a, f => f.Feature == "bytes_out");
        Assert.Equal(a.OrderBy(f => f.Id), b2.OrderBy(f => f.Id));
    }

    private sealed class ViewComparer : IEqualityComparer<EntityView?>
    {
        public bool Equals(EntityView? x, EntityView? y) =>
            x is not null && y is not null && x.WatermarkMs == y.WatermarkMs && x.Features.SequenceEqual(y.Features) && x.Novelty.SequenceEqual(y.Novelty);

        public int GetHashCode(EntityView? obj) => 0;
    }
}
