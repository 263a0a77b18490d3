using AnomalyZT.Grains.Config;
using AnomalyZT.Grains.Features;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Grains.Runtime;

namespace AnomalyZT.Grains;

/// <summary>The grain of one machine: traffic in and out, fan-out to destinations and ports, new destinations,
/// and GPU use — including GPUs that are busy with no scheduled job on them.</summary>
public sealed class NodeGrain : IGrain
{
    /// <summary>Creates the grain of <paramref name="node"/>.</summary>
    public NodeGrain(string node, DetectionConfig config)
    {
        Key = new EntityKey(EntityKind.Node, node);
        Features = new EntityFeatures(Key, config);
    }

    /// <inheritdoc />
    public EntityKey Key { get; }

    /// <inheritdoc />
    public EntityFeatures Features { get; }

    /// <inheritdoc />
    public void Apply(in RoutedEvent routed)
    {
        var s = Features.Series;
        var report = Features.ObserveActivity(routed.Event.TimestampMs);
        switch (routed.Role)
        {
            case EventRole.FlowSource:
            {
                var f = routed.Event.Flow;
                s[FeatureCatalog.EgressBytes.Index].Add(f.TimestampMs, f.OrigBytes);
                s[FeatureCatalog.IngressBytes.Index].Add(f.TimestampMs, f.RespBytes);
                s[FeatureCatalog.DistinctDestinations.Index].AddDistinct(f.TimestampMs, StableHashing.Fnv1a64(f.DstIp));
                s[FeatureCatalog.DistinctDstPorts.Index].AddDistinct(f.TimestampMs, (ulong)(uint)f.DstPort | ((ulong)f.Protocol << 16));
                Features.Novelty[0].Observe(f.TimestampMs, f.DstIp, report, Features.ActiveBuckets);
                break;
            }

            case EventRole.FlowDestination:
            {
                // The responder sends resp_bytes and receives orig_bytes.
                var f = routed.Event.Flow;
                s[FeatureCatalog.EgressBytes.Index].Add(f.TimestampMs, f.RespBytes);
                s[FeatureCatalog.IngressBytes.Index].Add(f.TimestampMs, f.OrigBytes);
                break;
            }

            case EventRole.Gpu:
            {
                var g = routed.Event.Gpu;
                if (!double.IsNaN(g.UtilPct))
                {
                    s[FeatureCatalog.GpuUtil.Index].Add(g.TimestampMs, g.UtilPct);
                    s[FeatureCatalog.GpuUtilUnattributed.Index].Add(g.TimestampMs, string.IsNullOrEmpty(g.Pod) ? g.UtilPct : 0);
                }

                if (!double.IsNaN(g.MemUsedMiB))
                {
                    s[FeatureCatalog.GpuMemUsed.Index].Add(g.TimestampMs, g.MemUsedMiB);
                }

                break;
            }
        }
    }
}
