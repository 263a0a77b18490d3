namespace AnomalyZT.Grains.Interfaces;

/// <summary>A read-only picture of one grain: its features, baselines and warm-up progress.</summary>
public sealed record EntityView
{
    /// <summary>Entity kind.</summary>
    public required EntityKind Kind { get; init; }

    /// <summary>Entity id.</summary>
    public required string Id { get; init; }

    /// <summary>Partition that owns the grain.</summary>
    public required int Partition { get; init; }

    /// <summary>Detector configuration version in force.</summary>
    public required string ConfigVersion { get; init; }

    /// <summary>Partition watermark (Unix ms): buckets ending at or before it are closed.</summary>
    public required long WatermarkMs { get; init; }

    /// <summary>Numeric features.</summary>
    public required IReadOnlyList<FeatureView> Features { get; init; }

    /// <summary>First-seen trackers.</summary>
    public required IReadOnlyList<NoveltyView> Novelty { get; init; }
}

/// <summary>One feature of a grain.</summary>
public sealed record FeatureView
{
    /// <summary>Feature name.</summary>
    public required string Name { get; init; }

    /// <summary>Bucket span, seconds.</summary>
    public required int BucketSeconds { get; init; }

    /// <summary>Detector judging it.</summary>
    public required string Detector { get; init; }

    /// <summary>Buckets closed so far.</summary>
    public required long ClosedBuckets { get; init; }

    /// <summary>Values the baseline holds.</summary>
    public required int BaselineCount { get; init; }

    /// <summary>Values the baseline needs before it may alert.</summary>
    public required int WarmupNeeded { get; init; }

    /// <summary>"ready" or "warming up: 7/24 buckets".</summary>
    public required string Warmup { get; init; }

    /// <summary>Value of the last closed bucket (NaN before any).</summary>
    public required double LastValue { get; init; }

    /// <summary>Start of the last closed bucket, Unix ms, or -1.</summary>
    public required long LastBucketStartMs { get; init; }

    /// <summary>Start of the newest open bucket, Unix ms, or -1.</summary>
    public required long OpenBucketStartMs { get; init; }

    /// <summary>Running value of the newest open bucket (NaN when none).</summary>
    public required double OpenValue { get; init; }

    /// <summary>Expected value for the next bucket.</summary>
    public required double Expected { get; init; }

    /// <summary>Lower bound for the next bucket.</summary>
    public required double Lower { get; init; }

    /// <summary>Upper bound for the next bucket.</summary>
    public required double Upper { get; init; }
}

/// <summary>One first-seen tracker of a grain.</summary>
/// <param name="Feature">Novelty feature name.</param>
/// <param name="Remembered">Distinct values remembered.</param>
/// <param name="Reporting">Whether the entity is past warm-up, so new values become findings.</param>
public sealed record NoveltyView(string Feature, int Remembered, bool Reporting);
