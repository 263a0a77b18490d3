using AnomalyZT.Grains.Config;
using AnomalyZT.Grains.Detectors;

namespace AnomalyZT.Grains.Features;

/// <summary>One feature of one entity: its open event-time buckets and the detector judging closed ones.</summary>
/// <remarks>Only buckets in which the entity was active exist: the baseline describes "how much, when active",
/// so a service account that runs twice a day is not flagged for every quiet hour. Several buckets may be
/// open at once while late events are still allowed; they are kept sorted by start.</remarks>
public sealed class FeatureSeries
{
    private readonly List<Bucket> _open = new(2);
    private Bucket? _spare; // the last closed bucket, reused so steady traffic opens buckets without allocating

    /// <summary>Creates a series with an empty baseline.</summary>
    public FeatureSeries(FeatureDefinition definition, FeatureSettings settings)
    {
        Definition = definition;
        Settings = settings;
        SpanMs = settings.BucketSeconds * 1000L;
        Detectors = SeriesDetectors.Create(settings);
        Verdicts = new DetectorVerdict[Detectors.Length];
        _settingsHash = Interfaces.StableHashing.Fnv1a64(settings.Fingerprint());
    }

    private readonly ulong _settingsHash;

    /// <summary>What the feature is.</summary>
    public FeatureDefinition Definition { get; }

    /// <summary>Its settings.</summary>
    public FeatureSettings Settings { get; }

    /// <summary>Its detectors, in configured order (at least one unless the feature is only tracked).</summary>
    public ISeriesDetector[] Detectors { get; }

    /// <summary>The verdicts of <see cref="Detectors"/> on the bucket being closed (valid inside the close callback).</summary>
    public DetectorVerdict[] Verdicts { get; }

    /// <summary>Bucket span, milliseconds.</summary>
    public long SpanMs { get; }

    /// <summary>Buckets closed so far.</summary>
    public long ClosedBuckets { get; private set; }

    /// <summary>Value of the last closed bucket (NaN before any).</summary>
    public double LastValue { get; private set; } = double.NaN;

    /// <summary>Start of the last closed bucket, Unix ms.</summary>
    public long LastBucketStartMs { get; private set; } = -1;

    /// <summary>Contributions held in open buckets (what a reset of this series would discard).</summary>
    public long OpenContributions
    {
        get
        {
            var n = 0L;
            foreach (var b in _open)
            {
                n += b.Count;
            }

            return n;
        }
    }

    /// <summary>End of the earliest open bucket, or <see cref="long.MaxValue"/> when none is open.</summary>
    public long EarliestEndMs => _open.Count == 0 ? long.MaxValue : _open[0].Start + SpanMs;

    /// <summary>Start and current value of the newest open bucket, if any.</summary>
    public (long StartMs, double Value)? Current => _open.Count == 0 ? null : (_open[^1].Start, _open[^1].Value(Definition.Aggregation));

    /// <summary>Adds <paramref name="value"/> to the bucket of <paramref name="timestampMs"/>.</summary>
    public void Add(long timestampMs, double value)
    {
        var bucket = BucketFor(timestampMs);
        bucket.Sum += value;
        bucket.Count++;
    }

    /// <summary>Counts <paramref name="hash"/> once in the distinct set of the bucket of <paramref name="timestampMs"/>.</summary>
    public void AddDistinct(long timestampMs, ulong hash)
    {
        var bucket = BucketFor(timestampMs);
        bucket.Distinct ??= new DistinctCounter();
        bucket.Distinct.Add(hash);
        bucket.Count++;
    }

    /// <summary>Closes every open bucket that ends at or before <paramref name="watermarkMs"/>, oldest first,
    /// and calls <paramref name="onClosed"/> with each value and the detector's verdict on it.</summary>
    /// <returns>Buckets closed.</returns>
    public int CloseThrough<TState>(long watermarkMs, TState state, Action<TState, FeatureSeries, long, double> onClosed)
    {
        var closed = 0;
        while (_open.Count > 0 && _open[0].Start + SpanMs <= watermarkMs)
        {
            var bucket = _open[0];
            _open.RemoveAt(0);
            var value = bucket.Value(Definition.Aggregation);
            _spare = bucket;
            ClosedBuckets++;
            closed++;
            LastValue = value;
            LastBucketStartMs = bucket.Start;
            if (!double.IsNaN(value))
            {
                for (var d = 0; d < Detectors.Length; d++)
                {
                    Verdicts[d] = Detectors[d].Update(value, bucket.Start);
                }

                onClosed(state, this, bucket.Start, value);
            }
        }

        return closed;
    }

    private Bucket BucketFor(long timestampMs)
    {
        var start = timestampMs - (((timestampMs % SpanMs) + SpanMs) % SpanMs);
        var i = _open.Count - 1;
        while (i >= 0 && _open[i].Start > start)
        {
            i--;
        }

        if (i >= 0 && _open[i].Start == start)
        {
            return _open[i];
        }

        var bucket = _spare ?? new Bucket();
        _spare = null;
        bucket.Reset(start);
        _open.Insert(i + 1, bucket);
        return bucket;
    }

    /// <summary>Writes the series, tagged with a hash of its settings and its length, so a reader built from other
    /// settings (a restart or reload after a config edit) can skip it instead of misreading it.</summary>
    public void Write(BinaryWriter writer)
    {
        using var payload = new MemoryStream();
        using (var inner = new BinaryWriter(payload, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            WritePayload(inner);
        }

        writer.Write(_settingsHash);
        writer.Write((int)payload.Length);
        writer.Write(payload.GetBuffer(), 0, (int)payload.Length);
    }

    /// <summary>Restores what <see cref="Write"/> wrote when the settings are the same; otherwise skips it and stays
    /// fresh (its baseline warms up again).</summary>
    /// <returns>True when the state was taken over.</returns>
    public bool Read(BinaryReader reader)
    {
        var hash = reader.ReadUInt64();
        var length = reader.ReadInt32();
        if (length is < 0 or > 64 * 1024 * 1024)
        {
            throw new InvalidDataException($"feature {Definition.Name} state claims {length} bytes; the state is corrupt");
        }

        var bytes = reader.ReadBytes(length);
        if (bytes.Length != length)
        {
            throw new EndOfStreamException($"feature {Definition.Name} state is truncated");
        }

        if (hash != _settingsHash)
        {
            return false;
        }

        using var inner = new BinaryReader(new MemoryStream(bytes, writable: false));
        ReadPayload(inner);
        if (inner.BaseStream.Position != length)
        {
            throw new InvalidDataException($"feature {Definition.Name} state has {length - inner.BaseStream.Position} unread bytes; the state is corrupt");
        }

        return true;
    }

    private void WritePayload(BinaryWriter writer)
    {
        writer.Write(ClosedBuckets);
        writer.Write(LastValue);
        writer.Write(LastBucketStartMs);
        writer.Write(_open.Count);
        foreach (var bucket in _open)
        {
            writer.Write(bucket.Start);
            writer.Write(bucket.Sum);
            writer.Write(bucket.Count);
            // A reused bucket keeps an empty counter; write it like a fresh one so equal state gives equal bytes.
            var distinct = bucket.Distinct is { Count: > 0 } d ? d : null;
            writer.Write(distinct is not null);
            distinct?.Write(writer);
        }

        writer.Write(Detectors.Length);
        foreach (var d in Detectors)
        {
            writer.Write(d.Name);
            d.Write(writer);
        }
    }

    private void ReadPayload(BinaryReader reader)
    {
        ClosedBuckets = reader.ReadInt64();
        LastValue = reader.ReadDouble();
        LastBucketStartMs = reader.ReadInt64();
        var open = reader.ReadInt32();
        if (open is < 0 or > 10_000)
        {
            throw new InvalidDataException($"feature {Definition.Name} state has {open} open buckets; the state is corrupt");
        }

        _open.Clear();
        for (var i = 0; i < open; i++)
        {
            var bucket = new Bucket { Start = reader.ReadInt64(), Sum = reader.ReadDouble(), Count = reader.ReadInt64() };
            if (reader.ReadBoolean())
            {
                bucket.Distinct = new DistinctCounter();
                bucket.Distinct.Read(reader);
            }

            _open.Add(bucket);
        }

        var detectors = reader.ReadInt32();
        if (detectors != Detectors.Length)
        {
            throw new InvalidDataException($"feature {Definition.Name} state has {detectors} detectors; the configuration has {Detectors.Length}");
        }

        foreach (var d in Detectors)
        {
            var name = reader.ReadString();
            if (name != d.Name)
            {
                throw new InvalidDataException($"feature {Definition.Name} state holds detector '{name}' where the configuration has '{d.Name}'");
            }

            d.Read(reader);
        }
    }

    private sealed class Bucket
    {
        public long Start;
        public double Sum;
        public long Count;
        public DistinctCounter? Distinct;

        public void Reset(long start)
        {
            Start = start;
            Sum = 0;
            Count = 0;
            Distinct?.Clear();
        }

        public double Value(Aggregation aggregation) => aggregation switch
        {
            Aggregation.Sum => Sum,
            Aggregation.Mean => Count == 0 ? double.NaN : Sum / Count,
            Aggregation.Distinct => Distinct is null ? 0 : Math.Round(Distinct.Count),
            _ => double.NaN,
        };
    }
}
