using AnomalyZT.Grains.Config;
using AnomalyZT.Grains.Detectors;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Grains.Runtime;

namespace AnomalyZT.Tests.Grains;

public sealed class BaselineDetectorTests
{
    private const long Hour = 3_600_000;

    // 2026-11-16 is a Monday.
    private static readonly long Monday = new DateTimeOffset(2026, 11, 16, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    [Fact]
    public void Ewma_HandComputed_MeanVarianceAndAlert()
    {
        var d = new EwmaDetector(new EwmaSettings { Span = 3, Warmup = 2, Threshold = 3, RelativeFloor = 0, AbsoluteFloor = 1e-9 });
        d.Update(10, 0); // mean 10, var 0
        d.Update(12, 0); // α = 0.5: diff 2, incr 1 → mean 11, var = 0.5·(0 + 2·1) = 1
        var v = d.Update(20, 0);
        Assert.Equal(11, v.Expected, 12);
        Assert.Equal(9, v.Score, 12); // (20 − 11)/1
        Assert.True(v.IsAnomaly);
    }

    [Fact]
    public void HourOfWeek_SlotOf_MondayMidnightIsZero_SundayLastHourIs167()
    {
        var d = new HourOfWeekDetector(new HourOfWeekSettings());
        Assert.Equal(0, d.SlotOf(Monday));
        Assert.Equal(167, d.SlotOf(Monday + (167 * Hour)));
        Assert.Equal(0, d.SlotOf(Monday + (168 * Hour)));
        Assert.Equal(2, new HourOfWeekDetector(new HourOfWeekSettings { Slots = 24 }).SlotOf(Monday + (26 * Hour)));
    }

    [Fact]
    public void HourOfWeek_NightlyJob_IsNormalAtNight_AnomalousInTheAfternoon()
    {
        var d = new HourOfWeekDetector(new HourOfWeekSettings { Slots = 24, Warmup = 3, Threshold = 4, AbsoluteFloor = 1 });
        var robust = new RobustLevelDetector(new RobustLevelSettings { Window = 96, Warmup = 3, Threshold = 4, AbsoluteFloor = 1 });
        for (var day = 0; day < 7; day++)
        {
            for (var h = 0; h < 24; h++)
            {
                var t = Monday + (((day * 24) + h) * Hour);
                var x = h == 2 ? 1000 : 10; // a nightly batch at 02:00
                d.Update(x, t);
                robust.Update(x, t);
            }
        }

        var nextNight = Monday + (((7 * 24) + 2) * Hour);
        Assert.False(d.Update(1000, nextNight).IsAnomaly);
        var afternoon = Monday + (((7 * 24) + 15) * Hour);
        Assert.True(d.Update(1000, afternoon).IsAnomaly);
    }

    [Fact]
    public void Config_DetectorList_BuildsThoseDetectorsInOrder_AndFindingListsAgreement()
    {
        var config = DetectionConfigLoader.Parse("""
            first_seen: { enabled: false }
            defaults:
              detectors: [ewma, robust_level]
              robust_level: { warmup: 5, threshold: 6 }
              ewma: { warmup: 5, threshold: 6 }
            """, "t");
        var p = new Partition(0, config);
        var findings = new List<Finding>();
        var t0 = Monday;
        for (var b = 0; b < 30; b++)
        {
            var ts = t0 + (b * 600_000L);
            var e = new AccessEvent(ts, "svc", PrincipalSource.Field, "10.0.0.1", "ua", "GET", "/r", Outcome.Success, 200, 0, b == 25 ? 50_000_000 : 100_000 + (b % 3 * 1000), null, null);
            p.Apply(new RoutedEvent(new EntityKey(EntityKind.Identity, "svc"), EventRole.Access, EngineEvent.From(e)));
            p.Advance(ts, findings);
        }

        p.CloseAll(findings);
        var f = Assert.Single(findings);
        Assert.Equal("ewma", f.Detector); // first in the configured list
        Assert.Equal(["ewma", "robust-level"], f.Agreed);
        Assert.Equal(Severity.Critical, f.Severity); // two detectors agree on an extreme value
        Assert.Contains("flagged by ewma, robust-level", f.Explanation, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("defaults: { detectors: [robust_level, magic] }", "defaults.detectors contains 'magic'")]
    [InlineData("defaults: { detectors: robust_level }", "defaults.detectors must be a list")]
    [InlineData("features:\n  gpu_util: { hour_of_week: { slots: 100 } }", "features.gpu_util.hour_of_week.slots is '100'")]
    [InlineData("defaults: { iid: { martingale: fancy } }", "defaults.iid.martingale is 'fancy'")]
    [InlineData("defaults: { ssa: { training_window: 20, seasonality_window: 12 } }", "defaults.ssa.training_window is 20; it must exceed twice defaults.ssa.seasonality_window (12)")]
    [InlineData("defaults: { sr: { threshold: 1.5 } }", "defaults.sr.threshold is '1.5'")]
    public void Config_InvalidDetectorSettings_NameKeyAndAllowed(string yaml, string expected)
    {
        var ex = Assert.Throws<DetectionConfigException>(() => DetectionConfigLoader.Parse(yaml, "d.yaml"));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FeatureState_WithAllDetectors_RoundTripsExactly()
    {
        var config = DetectionConfigLoader.Parse("defaults: { detectors: [robust_level, ewma, hour_of_week, iid_spike, iid_changepoint, ssa_spike, ssa_changepoint, sr] }", "t");
        var a = new Partition(0, config);
        var findings = new List<Finding>();
        var rng = new Random(8);
        for (var b = 0; b < 200; b++)
        {
            var ts = Monday + (b * 600_000L);
            var e = new AccessEvent(ts, "svc", PrincipalSource.Field, "10.0.0.1", "ua", "GET", "/r" + rng.Next(5), Outcome.Success, 200, 0, rng.Next(100_000), null, null);
            a.Apply(new RoutedEvent(new EntityKey(EntityKind.Identity, "svc"), EventRole.Access, EngineEvent.From(e)));
            a.Advance(ts, findings);
        }

        var b2 = new Partition(0, config);
        foreach (var (key, data) in a.TakeDirtySnapshots())
        {
            b2.Restore(key, data);
        }

        var fa = new List<Finding>();
        var fb = new List<Finding>();
        for (var b = 200; b < 400; b++)
        {
            var ts = Monday + (b * 600_000L);
            var e = new AccessEvent(ts, "svc", PrincipalSource.Field, "10.0.0.1", "ua", "GET", "/r", Outcome.Success, 200, 0, b % 50 == 0 ? 90_000_000 : rng.Next(100_000), null, null);
            var routed = new RoutedEvent(new EntityKey(EntityKind.Identity, "svc"), EventRole.Access, EngineEvent.From(e));
            a.Apply(routed);
            b2.Apply(routed);
            a.Advance(ts, fa);
            b2.Advance(ts, fb);
        }

        Assert.NotEmpty(fa);
        Assert.Equal(fa, fb);

        // Every detector's full state, not only the one that explains findings, must match bit for bit.
        var sa = a.TakeDirtySnapshots().Single().Data;
        var sb = b2.TakeDirtySnapshots().Single().Data;
        Assert.Equal(sa, sb);
    }

    [Fact]
    public void Restore_UnderEditedConfig_KeepsUnchangedFeatures_ChangedOnesStartFresh()
    {
        var before = DetectionConfigLoader.Parse("defaults: { detectors: [robust_level, iid_changepoint] }", "a");
        var after = DetectionConfigLoader.Parse("defaults: { detectors: [robust_level, iid_changepoint] }\nfeatures:\n  bytes_out: { iid: { change_history: 30 } }", "b");
        var p = new Partition(0, before);
        var findings = new List<Finding>();
        for (var b = 0; b < 40; b++)
        {
            var ts = Monday + (b * 600_000L);
            var e = new AccessEvent(ts, "svc", PrincipalSource.Field, "10.0.0.1", "ua", "GET", "/r", Outcome.Success, 200, 0, 1000 + b, null, null);
            p.Apply(new RoutedEvent(new EntityKey(EntityKind.Identity, "svc"), EventRole.Access, EngineEvent.From(e)));
            p.Advance(ts, findings);
        }

        var restored = new Partition(0, after);
        foreach (var (key, data) in p.TakeDirtySnapshots())
        {
            restored.Restore(key, data); // must not throw or misread the changed feature
        }

        var view = restored.Describe(new EntityKey(EntityKind.Identity, "svc"))!;
        var closed = view.Features.ToDictionary(f => f.Name, f => f.ClosedBuckets);
        Assert.Equal(closed["requests"], p.Describe(new EntityKey(EntityKind.Identity, "svc"))!.Features[0].ClosedBuckets);
        Assert.True(closed["requests"] > 30);
        Assert.Equal(0, closed["bytes_out"]);
    }

    [Fact]
    public void Reconfigure_ChangedFeatureRestartsEmpty_CountsWhatItsOpenBucketsHeld_UnchangedKeepsThem()
    {
        var p = new Partition(0, DetectionConfigLoader.Parse(string.Empty, "a"));
        var key = new EntityKey(EntityKind.Identity, "svc");
        for (var i = 0; i < 3; i++)
        {
            var e = new AccessEvent(Monday + (i * 1000), "svc", PrincipalSource.Field, "10.0.0.1", "ua", "GET", "/r", Outcome.Success, 200, 0, 500, null, null);
            p.Apply(new RoutedEvent(key, EventRole.Access, EngineEvent.From(e)));
        }

        p.Reconfigure(DetectionConfigLoader.Parse("features:\n  bytes_out: { robust_level: { threshold: 9 } }", "b"));
        Assert.Equal(3, p.ContributionsDroppedByReload);
        var view = p.Describe(key)!.Features.ToDictionary(f => f.Name);
        Assert.Equal(3, view["requests"].OpenValue);       // unchanged: its open bucket survived
        Assert.Equal(-1, view["bytes_out"].OpenBucketStartMs); // changed: restarted empty
    }
}
