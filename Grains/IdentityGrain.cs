using AnomalyZT.Grains.Config;
using AnomalyZT.Grains.Features;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Grains.Runtime;

namespace AnomalyZT.Grains;

/// <summary>The grain of one principal: request volume, failures, data pulled out, breadth of access, and what it
/// has never done before (resources, source IPs, user agents).</summary>
public sealed class IdentityGrain : IGrain
{
    /// <summary>Creates the grain of <paramref name="principal"/>.</summary>
    public IdentityGrain(string principal, DetectionConfig config)
    {
        Key = new EntityKey(EntityKind.Identity, principal);
        Features = new EntityFeatures(Key, config);
    }

    /// <inheritdoc />
    public EntityKey Key { get; }

    /// <inheritdoc />
    public EntityFeatures Features { get; }

    /// <inheritdoc />
    public void Apply(in RoutedEvent routed)
    {
        if (routed.Event.Kind != EventKind.Access)
        {
            return;
        }

        var e = routed.Event.Access;
        var ts = e.TimestampMs;
        var s = Features.Series;
        s[FeatureCatalog.Requests.Index].Add(ts, 1);
        s[FeatureCatalog.Failures.Index].Add(ts, e.Outcome is Outcome.Failure or Outcome.Denied ? 1 : 0);
        s[FeatureCatalog.BytesOut.Index].Add(ts, e.BytesOut);
        if (!string.IsNullOrEmpty(e.Resource))
        {
            s[FeatureCatalog.DistinctResources.Index].AddDistinct(ts, StableHashing.Fnv1a64(e.Resource));
        }

        var report = Features.ObserveActivity(ts);
        var n = Features.Novelty;
        var active = Features.ActiveBuckets;
        n[0].Observe(ts, e.Resource, report, active);
        n[1].Observe(ts, e.SourceIp, report, active);
        n[2].Observe(ts, e.UserAgent, report, active);
    }
}
