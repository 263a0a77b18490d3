using System.Security.Cryptography;
using System.Text;

namespace AnomalyZT.Grains.Interfaces;

/// <summary>How urgent a finding is, in SIEM terms.</summary>
public enum Severity : byte
{
    /// <summary>Worth recording, not worth a look.</summary>
    Info = 0,

    /// <summary>Unusual, probably benign.</summary>
    Low = 1,

    /// <summary>Unusual enough to look at.</summary>
    Medium = 2,

    /// <summary>Strongly anomalous.</summary>
    High = 3,

    /// <summary>Extreme deviation; act.</summary>
    Critical = 4,
}

/// <summary>An explained anomaly on one feature of one entity in one event-time bucket.</summary>
/// <remarks>Everything needed to judge the finding is on it: what was seen, what was expected, the
/// bounds it broke, how surprising that is, and which baseline and configuration said so.</remarks>
public sealed record Finding
{
    /// <summary>Deterministic id: the same entity, detector, feature and bucket always give the same id,
    /// so a replayed input produces no duplicates. See <see cref="ComputeId"/>.</summary>
    public required string Id { get; init; }

    /// <summary>Kind of the entity the finding is about.</summary>
    public required EntityKind EntityKind { get; init; }

    /// <summary>Id of the entity the finding is about.</summary>
    public required string EntityId { get; init; }

    /// <summary>Detector that fired (e.g. <c>robust-level</c>, <c>first-seen</c>).</summary>
    public required string Detector { get; init; }

    /// <summary>Every detector that flagged the bucket (the first explains it); empty for single-detector findings.</summary>
    public string[] Agreed { get; init; } = [];

    /// <summary>Feature the detector watched (e.g. <c>bytes_out</c>, <c>new_source_ip</c>).</summary>
    public required string Feature { get; init; }

    /// <summary>Start of the event-time bucket, Unix milliseconds UTC.</summary>
    public required long BucketStartMs { get; init; }

    /// <summary>Span of the bucket in seconds.</summary>
    public required int BucketSeconds { get; init; }

    /// <summary>Value of the feature in the bucket.</summary>
    public required double Observed { get; init; }

    /// <summary>What the baseline expected (e.g. the median).</summary>
    public required double Expected { get; init; }

    /// <summary>Lower bound of the normal range.</summary>
    public required double Lower { get; init; }

    /// <summary>Upper bound of the normal range.</summary>
    public required double Upper { get; init; }

    /// <summary>Detector score (robust z, martingale value, rarity); larger is more anomalous.</summary>
    public required double Score { get; init; }

    /// <summary>Upper-tail p-value of the observation under the baseline, or NaN when the detector has none.</summary>
    public required double PValue { get; init; }

    /// <summary>How urgent.</summary>
    public required Severity Severity { get; init; }

    /// <summary>Version of the detector configuration that produced the finding.</summary>
    public required string ConfigVersion { get; init; }

    /// <summary>Buckets the baseline had seen when it judged (its warm-up progress).</summary>
    public required int BaselineCount { get; init; }

    /// <summary>One sentence a responder can read.</summary>
    public required string Explanation { get; init; }

    /// <summary>The values behind a first-seen finding (the new resources, addresses, user agents), at most a few;
    /// empty for other detectors. Response policies match sensitive resources against them.</summary>
    public string[] Examples { get; init; } = [];

    /// <inheritdoc />
    public bool Equals(Finding? other) =>
        other is not null
        && Id == other.Id && EntityKind == other.EntityKind && EntityId == other.EntityId && Detector == other.Detector
        && Agreed.AsSpan().SequenceEqual(other.Agreed) && Feature == other.Feature && BucketStartMs == other.BucketStartMs
        && BucketSeconds == other.BucketSeconds && Observed.Equals(other.Observed) && Expected.Equals(other.Expected)
        && Lower.Equals(other.Lower) && Upper.Equals(other.Upper) && Score.Equals(other.Score) && PValue.Equals(other.PValue)
        && Severity == other.Severity && ConfigVersion == other.ConfigVersion && BaselineCount == other.BaselineCount
        && Explanation == other.Explanation && Examples.AsSpan().SequenceEqual(other.Examples);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Id, BucketStartMs, Observed);

    /// <summary>The deterministic id for (entity, detector, feature, bucket): the first 16 bytes of a SHA-256, hex.</summary>
    public static string ComputeId(EntityKind kind, string entityId, string detector, string feature, long bucketStartMs)
    {
        var text = string.Create(
            System.Globalization.CultureInfo.InvariantCulture,
            $"{(byte)kind}\u001f{entityId}\u001f{detector}\u001f{feature}\u001f{bucketStartMs}");
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), digest);
        return Convert.ToHexStringLower(digest[..16]);
    }
}
