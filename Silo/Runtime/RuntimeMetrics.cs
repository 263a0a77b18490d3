using System.Diagnostics;
using System.Diagnostics.Metrics;
using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Silo.Runtime;

/// <summary>The silo's instruments (meter and activity source <c>AnomalyZT.Silo</c>): what came in, what was refused,
/// how far behind the partitions are, what was found.</summary>
public sealed class RuntimeMetrics : IDisposable
{
    /// <summary>Meter and activity source name.</summary>
    public const string Name = "AnomalyZT.Silo";

    /// <summary>Spans of ingest requests and replays.</summary>
    public static readonly ActivitySource Activity = new(Name);

    private readonly Meter _meter;
    private readonly Counter<long> _accepted;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _refused;
    private readonly Counter<long> _late;
    private readonly Counter<long> _bucketsClosed;
    private readonly Counter<long> _findings;
    private readonly Histogram<double> _ingestSeconds;
    private readonly Counter<long> _evicted;
    private readonly Counter<long> _reloaded;
    private readonly Counter<long> _droppedByReload;
    private EmbeddedRuntime? _runtime;

    /// <summary>Creates the instruments on a meter from <paramref name="factory"/> (or a private meter when null).</summary>
    public RuntimeMetrics(IMeterFactory? factory)
    {
        _meter = factory?.Create(Name) ?? new Meter(Name);
        _accepted = _meter.CreateCounter<long>("anomalyzt.ingest.accepted", "{event}", "Events accepted, by format");
        _rejected = _meter.CreateCounter<long>("anomalyzt.ingest.rejected", "{event}", "Lines rejected and dead-lettered, by format");
        _refused = _meter.CreateCounter<long>("anomalyzt.ingest.refused", "{event}", "Events refused with 429 because a partition was full");
        _late = _meter.CreateCounter<long>("anomalyzt.events.late", "{event}", "Events older than the watermark, dead-lettered");
        _bucketsClosed = _meter.CreateCounter<long>("anomalyzt.buckets.closed", "{bucket}", "Grain bucket closes");
        _findings = _meter.CreateCounter<long>("anomalyzt.findings", "{finding}", "Findings committed, by detector");
        _ingestSeconds = _meter.CreateHistogram<double>("anomalyzt.ingest.duration", "s", "Time to parse, admit and answer one ingest request");
        _meter.CreateObservableGauge("anomalyzt.partition.queue_depth", ObserveDepth, "{event}", "Events waiting per partition");
        _meter.CreateObservableGauge("anomalyzt.partition.lag", ObserveLag, "ms", "Wall clock minus partition watermark");
        _meter.CreateObservableGauge("anomalyzt.grains.active", ObserveGrains, "{grain}", "Grains in memory per partition");
        _evicted = _meter.CreateCounter<long>("anomalyzt.grains.evicted", "{grain}", "Saved idle grains dropped from memory over the budget");
        _reloaded = _meter.CreateCounter<long>("anomalyzt.grains.reloaded", "{grain}", "Dropped grains reloaded from the store");
        _droppedByReload = _meter.CreateCounter<long>("anomalyzt.config.reload_dropped", "{contribution}",
            "Event contributions in open buckets of features whose settings a config reload changed (they restart empty)");
    }

    internal void ObserveQueues(EmbeddedRuntime runtime) => _runtime = runtime;

    /// <summary>Counts accepted and rejected lines of one request.</summary>
    public void Ingested(string format, int accepted, int rejected, double seconds)
    {
        var tag = new KeyValuePair<string, object?>("format", format);
        _accepted.Add(accepted, tag);
        _rejected.Add(rejected, tag);
        _ingestSeconds.Record(seconds, tag);
    }

    internal void Refused(int events) => _refused.Add(events);

    internal void LateEvent() => _late.Add(1);

    internal void Evicted(int count)
    {
        if (count > 0)
        {
            _evicted.Add(count);
        }
    }

    internal void Reloaded() => _reloaded.Add(1);

    internal void DroppedByReload(long count)
    {
        if (count > 0)
        {
            _droppedByReload.Add(count);
        }
    }

    internal void BucketsClosed(long count)
    {
        if (count > 0)
        {
            _bucketsClosed.Add(count);
        }
    }

    internal void Findings(IReadOnlyList<Finding> findings)
    {
        foreach (var f in findings)
        {
            _findings.Add(1, new KeyValuePair<string, object?>("detector", f.Detector));
        }
    }

    private IEnumerable<Measurement<int>> ObserveDepth()
    {
        if (_runtime is null)
        {
            yield break;
        }

        foreach (var (partition, depth, _, _) in _runtime.QueueStates())
        {
            yield return new Measurement<int>(depth, new KeyValuePair<string, object?>("partition", partition));
        }
    }

    private IEnumerable<Measurement<long>> ObserveLag()
    {
        if (_runtime is null)
        {
            yield break;
        }

        foreach (var (partition, _, lag, _) in _runtime.QueueStates())
        {
            yield return new Measurement<long>(lag, new KeyValuePair<string, object?>("partition", partition));
        }
    }

    private IEnumerable<Measurement<int>> ObserveGrains()
    {
        if (_runtime is null)
        {
            yield break;
        }

        foreach (var (partition, _, _, grains) in _runtime.QueueStates())
        {
            yield return new Measurement<int>(grains, new KeyValuePair<string, object?>("partition", partition));
        }
    }

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();
}
