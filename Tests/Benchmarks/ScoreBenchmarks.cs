using AnomalyZT.Grains.Config;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Grains.Runtime;
using BenchmarkDotNet.Attributes;

namespace AnomalyZT.Benchmarks;

/// <summary>Score throughput of one partition: apply events to identity grains and close their buckets.</summary>
[MemoryDiagnoser]
public class ScoreBenchmarks
{
    private const int Events = 100_000;
    private RoutedEvent[] _events = [];

    [Params(100, 10_000)]
    public int Identities { get; set; }

    [GlobalSetup]
    public void Setup() => _events = Synthetic.AccessEvents(Events, Identities);

    /// <summary>Applies 100,000 events (about 7 hours of event time) and advances the clock every 1,000.</summary>
    [Benchmark(OperationsPerInvoke = Events)]
    public int ApplyAndClose()
    {
        var partition = new Partition(0, DetectionConfig.Default);
        var findings = new List<Finding>();
        for (var i = 0; i < _events.Length; i++)
        {
            partition.Apply(_events[i]);
            if (i % 1000 == 999)
            {
                partition.Advance(_events[i].Event.TimestampMs, findings);
            }
        }

        partition.CloseAll(findings);
        return findings.Count;
    }
}
