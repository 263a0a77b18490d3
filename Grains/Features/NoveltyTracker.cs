using AnomalyZT.Grains.Config;
using AnomalyZT.Grains.Detectors;

namespace AnomalyZT.Grains.Features;

/// <summary>First-seen values of one kind for one entity (e.g. its source IPs), reported per bucket.</summary>
public sealed class NoveltyTracker
{
    private const int MaxExamples = 3;
    private readonly FirstSeenSet _seen;
    private readonly List<Pending> _pending = new(1);

    /// <summary>Creates an empty tracker.</summary>
    public NoveltyTracker(string feature, FirstSeenSettings settings, long bucketSpanMs)
    {
        Feature = feature;
        SpanMs = bucketSpanMs;
        _seen = new FirstSeenSet(settings.Capacity);
    }

    /// <summary>Novelty feature name, e.g. <c>new_source_ip</c>.</summary>
    public string Feature { get; }

    /// <summary>Bucket span, milliseconds.</summary>
    public long SpanMs { get; }

    /// <summary>Values remembered.</summary>
    public int Remembered => _seen.Count;

    /// <summary>End of the earliest bucket holding unreported novelty, or <see cref="long.MaxValue"/>.</summary>
    public long EarliestEndMs => _pending.Count == 0 ? long.MaxValue : _pending[0].Start + SpanMs;

    /// <summary>Records a use of <paramref name="value"/>; when it is new and <paramref name="report"/> is set
    /// (the entity is past warm-up), it is counted for the bucket's finding, together with what the entity knew at
    /// that moment (<paramref name="activeBuckets"/>), so the explanation does not depend on when the bucket closes.</summary>
    public void Observe(long timestampMs, string? value, bool report, long activeBuckets)
    {
        if (string.IsNullOrEmpty(value))
        {
            return;
        }

        if (!_seen.Observe(Interfaces.StableHashing.Fnv1a64(value), timestampMs) || !report)
        {
            return;
        }

        var start = timestampMs - (((timestampMs % SpanMs) + SpanMs) % SpanMs);
        var i = _pending.Count - 1;
        while (i >= 0 && _pending[i].Start > start)
        {
            i--;
        }

        Pending bucket;
        if (i >= 0 && _pending[i].Start == start)
        {
            bucket = _pending[i];
        }
        else
        {
            bucket = new Pending { Start = start };
            _pending.Insert(i + 1, bucket);
        }

        bucket.Count++;
        bucket.Remembered = _seen.Count;
        bucket.ActiveBuckets = activeBuckets;
        if (bucket.Examples.Count < MaxExamples)
        {
            bucket.Examples.Add(value);
        }
    }

    /// <summary>Reports buckets that end at or before <paramref name="watermarkMs"/>.</summary>
    public void CloseThrough<TState>(long watermarkMs, TState state, Action<TState, NoveltyTracker, NoveltyBucket> onClosed)
    {
        while (_pending.Count > 0 && _pending[0].Start + SpanMs <= watermarkMs)
        {
            var b = _pending[0];
            _pending.RemoveAt(0);
            onClosed(state, this, new NoveltyBucket(b.Start, b.Count, b.Examples, b.Remembered, b.ActiveBuckets));
        }
    }

    /// <summary>Writes remembered values and unreported buckets.</summary>
    public void Write(BinaryWriter writer)
    {
        _seen.Write(writer);
        writer.Write(_pending.Count);
        foreach (var p in _pending)
        {
            writer.Write(p.Start);
            writer.Write(p.Count);
            writer.Write(p.Remembered);
            writer.Write(p.ActiveBuckets);
            writer.Write(p.Examples.Count);
            foreach (var e in p.Examples)
            {
                writer.Write(e);
            }
        }
    }

    /// <summary>Restores what <see cref="Write"/> wrote.</summary>
    public void Read(BinaryReader reader)
    {
        _seen.Read(reader);
        var count = reader.ReadInt32();
        if (count is < 0 or > 10_000)
        {
            throw new InvalidDataException($"{Feature} state has {count} pending buckets; the state is corrupt");
        }

        _pending.Clear();
        for (var i = 0; i < count; i++)
        {
            var p = new Pending { Start = reader.ReadInt64(), Count = reader.ReadInt32(), Remembered = reader.ReadInt32(), ActiveBuckets = reader.ReadInt64() };
            var examples = reader.ReadInt32();
            if (examples is < 0 or > MaxExamples)
            {
                throw new InvalidDataException($"{Feature} state has {examples} examples in a bucket; the state is corrupt");
            }

            for (var j = 0; j < examples; j++)
            {
                p.Examples.Add(reader.ReadString());
            }

            _pending.Add(p);
        }
    }

    private sealed class Pending
    {
        public long Start;
        public int Count;
        public int Remembered;
        public long ActiveBuckets;
        public readonly List<string> Examples = new(MaxExamples);
    }
}

/// <summary>A closed bucket of first-seen values.</summary>
/// <param name="Start">Bucket start, Unix ms.</param>
/// <param name="Count">New values in the bucket.</param>
/// <param name="Examples">Up to three of them.</param>
/// <param name="Remembered">Values the entity remembered after the last of them.</param>
/// <param name="ActiveBuckets">Active buckets the entity had when the last of them arrived.</param>
public readonly record struct NoveltyBucket(long Start, int Count, IReadOnlyList<string> Examples, int Remembered, long ActiveBuckets);
