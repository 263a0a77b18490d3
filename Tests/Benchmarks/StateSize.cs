using System.Globalization;
using AnomalyZT.Grains.Config;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Grains.Runtime;

namespace AnomalyZT.Benchmarks;

/// <summary>Bytes of snapshot state per entity once its baselines are full (96 buckets) and its novelty sets hold
/// a realistic number of values; printed by <c>dotnet run -c Release --project Tests/Benchmarks -- state-size</c>.</summary>
internal static class StateSize
{
    public static void Print(TextWriter output)
    {
        var config = DetectionConfig.Default;
        var partition = new Partition(0, config);
        var findings = new List<Finding>();
        var t0 = Synthetic.Start.ToUnixTimeMilliseconds();
        const long Bucket = 600_000;
        for (var b = 0; b < 120; b++)
        {
            var ts = t0 + b * Bucket;
            for (var i = 0; i < 20; i++)
            {
                var e = new AccessEvent(ts + i * 1000, "svc", PrincipalSource.Field, "10.0.1." + (i % 8).ToString(CultureInfo.InvariantCulture),
                    "agent/" + (i % 3).ToString(CultureInfo.InvariantCulture), "GET", "/r/" + ((b * 20 + i) % 200).ToString(CultureInfo.InvariantCulture),
                    Outcome.Success, 200, 10, 5000, null, null);
                partition.Apply(new RoutedEvent(new EntityKey(EntityKind.Identity, "svc"), EventRole.Access, EngineEvent.From(e)));
                var g = new GpuSample(ts + i * 1000, "gpu-node-1", "GPU-1", i % 2, 80, 40_000, 300, "train-1", "ml");
                partition.Apply(new RoutedEvent(new EntityKey(EntityKind.Node, "gpu-node-1"), EventRole.Gpu, EngineEvent.From(g)));
                var f = new FlowEvent(ts + i * 1000, "10.0.3.1", 40000 + i, "10.0.9." + (i % 16).ToString(CultureInfo.InvariantCulture), 443, 6, 1000, 20000, 30, 100, null);
                partition.Apply(new RoutedEvent(new EntityKey(EntityKind.Node, "gpu-node-1"), EventRole.FlowSource, EngineEvent.From(f)));
            }

            partition.Advance(ts, findings);
        }

        foreach (var (key, data) in partition.TakeDirtySnapshots())
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{key}: {data.Length} bytes of snapshot state"));
        }
    }
}
