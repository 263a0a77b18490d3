using AnomalyZT.Grains.Config;
using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Grains.Runtime;

/// <summary>The grains of one partition and its event-time clock. Single-threaded: whoever runs the partition
/// (the embedded worker, later a queue consumer) calls it from one thread of control at a time.</summary>
/// <remarks>The watermark is the newest event time seen (by this partition or announced by the router) minus the
/// allowed lateness. A bucket closes when its end is at or before the watermark; an event older than the
/// watermark belongs to a closed bucket and is refused (the caller dead-letters it).</remarks>
public sealed class Partition
{
    private const byte SnapshotVersion = 1;
    private readonly Dictionary<EntityKey, Activation> _grains = [];
    private readonly PriorityQueue<Activation, long> _due = new();
    private readonly List<Activation> _dirty = [];
    private long _latenessMs;
    private long _touches;

    /// <summary>Creates an empty partition.</summary>
    public Partition(int index, DetectionConfig config)
    {
        Index = index;
        Config = config;
        _latenessMs = config.AllowedLatenessSeconds * 1000L;
    }

    /// <summary>Partition number.</summary>
    public int Index { get; }

    /// <summary>Detection config in force.</summary>
    public DetectionConfig Config { get; private set; }

    /// <summary>Switches to <paramref name="config"/> without a restart: every grain is rebuilt under it, keeping the
    /// state of each feature whose settings did not change (see <see cref="Features.EntityFeatures.AdoptFrom"/>).</summary>
    public void Reconfigure(DetectionConfig config)
    {
        // Build every grain under the new config first; only if all succeed is anything switched, so a failure
        // leaves the partition exactly as it was.
        var previous = Config;
        Config = config;
        var fresh = new List<(Activation Activation, IGrain Grain)>(_grains.Count);
        var dropped = 0L;
        try
        {
            foreach (var a in _grains.Values)
            {
                var grain = NewGrain(a.Grain.Key);
                dropped += grain.Features.AdoptFrom(a.Grain.Features);
                fresh.Add((a, grain));
            }
        }
        catch
        {
            Config = previous;
            throw;
        }

        ContributionsDroppedByReload += dropped;
        _latenessMs = config.AllowedLatenessSeconds * 1000L;
        _due.Clear();
        foreach (var (a, grain) in fresh)
        {
            a.Grain = grain;
            a.ScheduledEndMs = long.MaxValue;
            MarkDirty(a);
            Schedule(a);
        }
    }

    /// <summary>Buckets ending at or before this time (Unix ms) are closed.</summary>
    public long WatermarkMs { get; private set; } = long.MinValue;

    /// <summary>Newest event time applied or announced.</summary>
    public long HighWaterMs { get; private set; } = long.MinValue;

    /// <summary>Grains active in memory.</summary>
    public int GrainCount => _grains.Count;

    /// <summary>Events refused as too late since start.</summary>
    public long LateEvents { get; private set; }

    /// <summary>Event contributions in open buckets of features whose settings a reload changed (they restart empty).</summary>
    public long ContributionsDroppedByReload { get; private set; }

    /// <summary>Feature buckets closed since start.</summary>
    public long BucketsClosed { get; private set; }

    /// <summary>Applies an event; false when it is older than the watermark (too late) and was not applied.</summary>
    public bool Apply(in RoutedEvent routed)
    {
        var ts = routed.Event.TimestampMs;
        if (ts < WatermarkMs)
        {
            LateEvents++;
            return false;
        }

        var activation = Activate(routed.Key);
        activation.LastTouch = ++_touches;
        activation.Grain.Apply(routed);
        MarkDirty(activation);
        Schedule(activation);
        if (ts > HighWaterMs)
        {
            HighWaterMs = ts;
        }

        return true;
    }

    /// <summary>Moves the clock to <paramref name="highWaterMs"/> (if newer) and closes every bucket now due.</summary>
    public void Advance(long highWaterMs, List<Finding> findings)
    {
        if (highWaterMs > HighWaterMs)
        {
            HighWaterMs = highWaterMs;
        }

        var watermark = HighWaterMs == long.MinValue ? long.MinValue : HighWaterMs - _latenessMs;
        if (watermark <= WatermarkMs)
        {
            return;
        }

        WatermarkMs = watermark;
        CloseDue(watermark, findings);
    }

    /// <summary>Closes every open bucket regardless of the clock: the end of a replayed input.</summary>
    public void CloseAll(List<Finding> findings) => CloseDue(long.MaxValue, findings);

    private void CloseDue(long through, List<Finding> findings)
    {
        while (_due.TryPeek(out var activation, out var end) && end <= through)
        {
            _due.Dequeue();
            if (activation.ScheduledEndMs != end)
            {
                continue; // superseded by an earlier bucket scheduled later
            }

            activation.ScheduledEndMs = long.MaxValue;
            BucketsClosed += activation.Grain.Features.CloseThrough(through, findings);
            MarkDirty(activation);
            Schedule(activation);
        }
    }

    /// <summary>Describes a grain, or null if this partition has none for <paramref name="key"/>.</summary>
    public EntityView? Describe(EntityKey key) =>
        _grains.TryGetValue(key, out var a) ? a.Grain.Features.Describe(Index, WatermarkMs) : null;

    /// <summary>Serializes the grains changed since the last call and forgets that they changed.</summary>
    public List<(EntityKey Key, byte[] Data)> TakeDirtySnapshots()
    {
        var result = new List<(EntityKey, byte[])>(_dirty.Count);
        foreach (var a in _dirty)
        {
            a.Dirty = false;
            using var stream = new MemoryStream();
            using (var writer = new BinaryWriter(stream))
            {
                writer.Write(SnapshotVersion);
                writer.Write(WatermarkMs);
                writer.Write(HighWaterMs);
                a.Grain.Features.Write(writer);
            }

            result.Add((a.Grain.Key, stream.ToArray()));
        }

        _dirty.Clear();
        return result;
    }

    /// <summary>Whether the grain of <paramref name="key"/> is in memory.</summary>
    public bool IsActive(EntityKey key) => _grains.ContainsKey(key);

    /// <summary>When more than <paramref name="maxGrains"/> grains are in memory, drops the least recently used ones
    /// that are safe to drop — saved (not dirty) and with every bucket closed, so nothing is pending in them — until
    /// 90 % of the limit remains. Their keys go to <paramref name="evicted"/>; the caller reloads them from the
    /// store when they are needed again.</summary>
    /// <returns>Grains dropped.</returns>
    public int EvictIdle(int maxGrains, List<EntityKey> evicted)
    {
        if (_grains.Count <= maxGrains)
        {
            return 0;
        }

        var candidates = new List<Activation>();
        foreach (var a in _grains.Values)
        {
            if (!a.Dirty && a.Grain.Features.EarliestEndMs == long.MaxValue)
            {
                candidates.Add(a);
            }
        }

        candidates.Sort(static (x, y) => x.LastTouch.CompareTo(y.LastTouch));
        var target = maxGrains - (maxGrains / 10);
        var dropped = 0;
        foreach (var a in candidates)
        {
            if (_grains.Count <= target)
            {
                break;
            }

            _grains.Remove(a.Grain.Key);
            evicted.Add(a.Grain.Key);
            dropped++;
        }

        return dropped;
    }

    /// <summary>Forgets which grains changed, for runs that keep no state (replays, benchmarks).</summary>
    public void ForgetDirty()
    {
        foreach (var a in _dirty)
        {
            a.Dirty = false;
        }

        _dirty.Clear();
    }

    /// <summary>Restores a grain from a snapshot taken by <see cref="TakeDirtySnapshots"/>; the clock moves to the
    /// newest restored watermark.</summary>
    public void Restore(EntityKey key, byte[] data)
    {
        using var reader = new BinaryReader(new MemoryStream(data, writable: false));
        var version = reader.ReadByte();
        if (version != SnapshotVersion)
        {
            throw new InvalidDataException($"snapshot of {key} has version {version}; this build reads {SnapshotVersion}");
        }

        var watermark = reader.ReadInt64();
        var high = reader.ReadInt64();
        var grain = NewGrain(key);
        grain.Features.Read(reader); // into a fresh grain: a snapshot that fails to read leaves nothing behind
        if (reader.BaseStream.Position != reader.BaseStream.Length)
        {
            throw new InvalidDataException($"snapshot of {key} has {reader.BaseStream.Length - reader.BaseStream.Position} bytes after its grain state");
        }

        var activation = new Activation(grain);
        _grains[key] = activation;
        WatermarkMs = Math.Max(WatermarkMs, watermark);
        HighWaterMs = Math.Max(HighWaterMs, high);
        activation.ScheduledEndMs = long.MaxValue;
        Schedule(activation);
    }

    private Activation Activate(EntityKey key)
    {
        if (!_grains.TryGetValue(key, out var activation))
        {
            activation = new Activation(NewGrain(key));
            _grains.Add(key, activation);
        }

        return activation;
    }

    private IGrain NewGrain(EntityKey key) => key.Kind == EntityKind.Identity ? new IdentityGrain(key.Id, Config) : new NodeGrain(key.Id, Config);

    private void Schedule(Activation activation)
    {
        var end = activation.Grain.Features.EarliestEndMs;
        if (end < activation.ScheduledEndMs)
        {
            activation.ScheduledEndMs = end;
            _due.Enqueue(activation, end);
        }
    }

    private void MarkDirty(Activation activation)
    {
        if (!activation.Dirty)
        {
            activation.Dirty = true;
            _dirty.Add(activation);
        }
    }

    private sealed class Activation(IGrain grain)
    {
        public IGrain Grain { get; set; } = grain;

        public long ScheduledEndMs { get; set; } = long.MaxValue;

        public bool Dirty { get; set; }

        public long LastTouch { get; set; }
    }
}
