using System.Globalization;
using AnomalyZT.Grains.Config;
using AnomalyZT.Grains.Detectors;
using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Grains.Features;

/// <summary>The feature series and novelty trackers of one entity, and how their closed buckets become findings.</summary>
/// <remarks>Shared by <see cref="AnomalyZT.Grains.IdentityGrain"/> and <see cref="AnomalyZT.Grains.NodeGrain"/> by composition; grains decide which
/// events feed which feature.</remarks>
public sealed class EntityFeatures
{
    private const byte StateVersion = 1;
    private readonly DetectionConfig _config;

    /// <summary>Creates empty features for <paramref name="key"/>.</summary>
    public EntityFeatures(EntityKey key, DetectionConfig config)
    {
        Key = key;
        _config = config;
        var defs = FeatureCatalog.For(key.Kind);
        Series = new FeatureSeries[defs.Length];
        for (var i = 0; i < defs.Length; i++)
        {
            Series[i] = new FeatureSeries(defs[i], config.For(key, defs[i].Name));
        }

        var novelty = FeatureCatalog.NoveltyFor(key.Kind);
        Novelty = new NoveltyTracker[novelty.Length];
        for (var i = 0; i < novelty.Length; i++)
        {
            Novelty[i] = new NoveltyTracker(novelty[i], config.FirstSeen, Series[0].SpanMs);
        }
    }

    /// <summary>The entity.</summary>
    public EntityKey Key { get; }

    /// <summary>Numeric features, in <see cref="FeatureCatalog"/> slot order.</summary>
    public FeatureSeries[] Series { get; }

    /// <summary>First-seen trackers, in <see cref="FeatureCatalog"/> order.</summary>
    public NoveltyTracker[] Novelty { get; }

    /// <summary>Distinct activity buckets (of the first feature's span) in which the entity had events, counted as
    /// events arrive. Counting at event time rather than at bucket close keeps novelty warm-up independent of when
    /// the watermark happens to move (one large body or many small ones give the same findings).</summary>
    public long ActiveBuckets { get; private set; }

    private long _lastActiveStartMs = long.MinValue;

    /// <summary>Records activity at <paramref name="timestampMs"/>; true when the entity had enough earlier active
    /// buckets for first-seen values to be reported.</summary>
    public bool ObserveActivity(long timestampMs)
    {
        var span = Series[0].SpanMs;
        var start = timestampMs - (((timestampMs % span) + span) % span);
        if (start > _lastActiveStartMs)
        {
            if (_lastActiveStartMs != long.MinValue)
            {
                ActiveBuckets++; // the previous bucket is now an earlier active bucket
            }

            _lastActiveStartMs = start;
        }

        return NoveltyReporting;
    }

    /// <summary>Whether first-seen values are reported now.</summary>
    public bool NoveltyReporting => _config.FirstSeen.Enabled && ActiveBuckets >= _config.FirstSeen.WarmupBuckets;

    /// <summary>The earliest time at which some open bucket can close.</summary>
    public long EarliestEndMs
    {
        get
        {
            var end = long.MaxValue;
            foreach (var s in Series)
            {
                end = Math.Min(end, s.EarliestEndMs);
            }

            foreach (var n in Novelty)
            {
                end = Math.Min(end, n.EarliestEndMs);
            }

            return end;
        }
    }

    /// <summary>Closes buckets ending at or before <paramref name="watermarkMs"/> and appends findings.</summary>
    /// <returns>Feature buckets closed.</returns>
    public int CloseThrough(long watermarkMs, List<Finding> findings)
    {
        var ctx = (Self: this, Findings: findings);
        var closed = 0;
        foreach (var s in Series)
        {
            closed += s.CloseThrough(watermarkMs, ctx, static (c, series, start, value) =>
            {
                if (series.Settings.Enabled && Array.FindIndex(series.Verdicts, static v => v.IsAnomaly) is var primary and >= 0)
                {
                    c.Findings.Add(c.Self.LevelFinding(series, start, value, primary));
                }
            });
        }

        foreach (var n in Novelty)
        {
            n.CloseThrough(watermarkMs, ctx, static (c, tracker, bucket) => c.Findings.Add(c.Self.NoveltyFinding(tracker, bucket)));
        }

        return closed;
    }

    /// <summary>One finding per feature and bucket: explained by the first configured detector that flagged it, listing
    /// every detector that agreed; agreement raises the severity one step.</summary>
    private Finding LevelFinding(FeatureSeries series, long bucketStart, double value, int primary)
    {
        var def = series.Definition;
        var v = series.Verdicts[primary];
        var detector = series.Detectors[primary].Name;
        var agreed = new List<string>(series.Verdicts.Length);
        for (var i = 0; i < series.Verdicts.Length; i++)
        {
            if (series.Verdicts[i].IsAnomaly)
            {
                agreed.Add(series.Detectors[i].Name);
            }
        }

        var severity = v.PValue <= 1e-12 ? Severity.Critical : v.PValue <= 1e-6 ? Severity.High : Severity.Medium;
        if (agreed.Count > 1 && severity < Severity.Critical)
        {
            severity++;
        }

        var baseline = double.IsNaN(v.Expected)
            ? string.Create(CultureInfo.InvariantCulture, $"p-value {v.PValue:0.###e0} against the last {v.BaselineCount} active buckets ({detector})")
            : string.Create(CultureInfo.InvariantCulture,
                $"expected {Fmt(v.Expected)} ({detector} baseline of {v.BaselineCount} active buckets), normal range {Fmt(v.Lower)}..{Fmt(v.Upper)}, score {v.Score:0.0}");
        var explanation = string.Create(CultureInfo.InvariantCulture,
            $"{def.Name} was {Fmt(value)} {def.Unit} in the {series.Settings.BucketSeconds}s bucket from {Iso(bucketStart)}; {baseline}; flagged by {string.Join(", ", agreed)}");
        return new Finding
        {
            Id = Finding.ComputeId(Key.Kind, Key.Id, detector, def.Name, bucketStart),
            EntityKind = Key.Kind,
            EntityId = Key.Id,
            Detector = detector,
            Agreed = [.. agreed],
            Feature = def.Name,
            BucketStartMs = bucketStart,
            BucketSeconds = series.Settings.BucketSeconds,
            Observed = value,
            Expected = v.Expected,
            Lower = v.Lower,
            Upper = v.Upper,
            Score = v.Score,
            PValue = v.PValue,
            Severity = severity,
            ConfigVersion = _config.Version,
            BaselineCount = v.BaselineCount,
            Explanation = explanation,
        };
    }

    private Finding NoveltyFinding(NoveltyTracker tracker, in NoveltyBucket bucket)
    {
        var (bucketStart, count, examples) = (bucket.Start, bucket.Count, bucket.Examples);
        const string detector = "first-seen";
        var more = count > examples.Count ? string.Create(CultureInfo.InvariantCulture, $" and {count - examples.Count} more") : string.Empty;
        var explanation = string.Create(CultureInfo.InvariantCulture,
            $"{count} never-seen value(s) for {tracker.Feature} in the bucket from {Iso(bucketStart)}: {string.Join(", ", examples)}{more}; " +
            $"{bucket.Remembered} values remembered after {bucket.ActiveBuckets} active buckets");
        return new Finding
        {
            Id = Finding.ComputeId(Key.Kind, Key.Id, detector, tracker.Feature, bucketStart),
            EntityKind = Key.Kind,
            EntityId = Key.Id,
            Detector = detector,
            Feature = tracker.Feature,
            BucketStartMs = bucketStart,
            BucketSeconds = (int)(tracker.SpanMs / 1000),
            Observed = count,
            Expected = 0,
            Lower = 0,
            Upper = 0,
            Score = count,
            PValue = double.NaN,
            Severity = count >= 5 ? Severity.Medium : Severity.Low,
            ConfigVersion = _config.Version,
            BaselineCount = bucket.Remembered,
            Explanation = explanation,
            Examples = [.. examples],
        };
    }

    /// <summary>Takes over the state of <paramref name="previous"/> (the same entity under an older configuration)
    /// wherever the settings did not change: those features keep their open buckets and baselines; changed ones
    /// start fresh and warm up again.</summary>
    /// <returns>Contributions (events counted in open buckets) of changed features that were discarded.</returns>
    public long AdoptFrom(EntityFeatures previous)
    {
        ActiveBuckets = previous.ActiveBuckets;
        _lastActiveStartMs = previous._lastActiveStartMs;
        var dropped = 0L;
        for (var i = 0; i < Series.Length; i++)
        {
            var from = previous.Series[i];
            var to = Series[i];
            var taken = false;
            Copy(from.Write, reader => taken = to.Read(reader));
            dropped += taken ? 0 : from.OpenContributions;
        }

        var fs = _config.FirstSeen;
        var old = previous._config.FirstSeen;
        if (fs.Capacity == old.Capacity && Series[0].SpanMs == previous.Series[0].SpanMs)
        {
            for (var i = 0; i < Novelty.Length; i++)
            {
                Copy(previous.Novelty[i].Write, Novelty[i].Read);
            }
        }

        return dropped;
    }

    private static void Copy(Action<BinaryWriter> write, Action<BinaryReader> read)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            write(writer);
        }

        stream.Position = 0;
        using var reader = new BinaryReader(stream);
        read(reader);
    }

    /// <summary>Builds the API view.</summary>
    public EntityView Describe(int partition, long watermarkMs)
    {
        var features = new FeatureView[Series.Length];
        for (var i = 0; i < Series.Length; i++)
        {
            var s = Series[i];
            var current = s.Current;
            var main = s.Detectors.Length > 0 ? s.Detectors[0] : null;
            var peek = main?.Peek(current?.StartMs ?? (s.LastBucketStartMs + s.SpanMs)) ?? default;
            features[i] = new FeatureView
            {
                Name = s.Definition.Name,
                BucketSeconds = s.Settings.BucketSeconds,
                Detector = main?.Name ?? "none",
                ClosedBuckets = s.ClosedBuckets,
                BaselineCount = main?.Seen ?? 0,
                WarmupNeeded = main?.WarmupNeeded ?? 0,
                Warmup = main is null || main.Seen >= main.WarmupNeeded
                    ? "ready"
                    : string.Create(CultureInfo.InvariantCulture, $"warming up: {main.Seen}/{main.WarmupNeeded} buckets"),
                LastValue = s.LastValue,
                LastBucketStartMs = s.LastBucketStartMs,
                OpenBucketStartMs = current?.StartMs ?? -1,
                OpenValue = current?.Value ?? double.NaN,
                Expected = peek.Expected,
                Lower = peek.Lower,
                Upper = peek.Upper,
            };
        }

        var novelty = new NoveltyView[Novelty.Length];
        for (var i = 0; i < Novelty.Length; i++)
        {
            novelty[i] = new NoveltyView(Novelty[i].Feature, Novelty[i].Remembered, NoveltyReporting);
        }

        return new EntityView
        {
            Kind = Key.Kind,
            Id = Key.Id,
            Partition = partition,
            ConfigVersion = _config.Version,
            WatermarkMs = watermarkMs,
            Features = features,
            Novelty = novelty,
        };
    }

    /// <summary>Writes every series and tracker.</summary>
    public void Write(BinaryWriter writer)
    {
        writer.Write(StateVersion);
        writer.Write(ActiveBuckets);
        writer.Write(_lastActiveStartMs);
        writer.Write(Series.Length);
        foreach (var s in Series)
        {
            s.Write(writer);
        }

        writer.Write(Novelty.Length);
        foreach (var n in Novelty)
        {
            n.Write(writer);
        }
    }

    /// <summary>Restores what <see cref="Write"/> wrote.</summary>
    public void Read(BinaryReader reader)
    {
        var version = reader.ReadByte();
        if (version != StateVersion)
        {
            throw new InvalidDataException($"grain state version {version} is not supported (expected {StateVersion})");
        }

        ActiveBuckets = reader.ReadInt64();
        _lastActiveStartMs = reader.ReadInt64();
        var series = reader.ReadInt32();
        if (series != Series.Length)
        {
            throw new InvalidDataException($"grain state has {series} features; this version tracks {Series.Length}");
        }

        foreach (var s in Series)
        {
            _ = s.Read(reader); // a feature whose settings changed since the snapshot starts fresh
        }

        var novelty = reader.ReadInt32();
        if (novelty != Novelty.Length)
        {
            throw new InvalidDataException($"grain state has {novelty} novelty trackers; this version tracks {Novelty.Length}");
        }

        foreach (var n in Novelty)
        {
            n.Read(reader);
        }
    }

    private static string Fmt(double v) => v.ToString(Math.Abs(v) >= 1e6 ? "0.###e0" : "0.##", CultureInfo.InvariantCulture);

    private static string Iso(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
}
