namespace AnomalyZT.Grains.Detectors;

/// <summary>What a detector concluded about one closed bucket.</summary>
/// <param name="IsAnomaly">True when the value breaks the detector's bounds after warm-up.</param>
/// <param name="Expected">The baseline's expected value (NaN while it has none).</param>
/// <param name="Lower">Lower bound of the normal range.</param>
/// <param name="Upper">Upper bound of the normal range.</param>
/// <param name="Score">Detector score, larger is more anomalous (robust z for the level detector).</param>
/// <param name="PValue">Tail probability of the value under the baseline, NaN when undefined.</param>
/// <param name="BaselineCount">Values the baseline held when it judged.</param>
public readonly record struct DetectorVerdict(bool IsAnomaly, double Expected, double Lower, double Upper, double Score, double PValue, int BaselineCount);

/// <summary>A streaming detector over one feature series of one entity: fed one closed bucket at a time.</summary>
/// <remarks>This is the seam the detector library plugs into. One instance per series; instances are touched
/// by a single partition worker, so implementations hold no locks. State must round-trip through
/// <see cref="Write"/>/<see cref="Read"/> so that a restored detector continues exactly as the original.</remarks>
public interface ISeriesDetector
{
    /// <summary>Detector name as it appears on findings.</summary>
    string Name { get; }

    /// <summary>Values seen so far (capped at what the baseline keeps).</summary>
    int Seen { get; }

    /// <summary>Values needed before the detector may alert.</summary>
    int WarmupNeeded { get; }

    /// <summary>Judges <paramref name="value"/>, the value of the bucket starting at <paramref name="bucketStartMs"/>,
    /// against the baseline, then learns it.</summary>
    DetectorVerdict Update(double value, long bucketStartMs);

    /// <summary>The current baseline for a bucket starting at <paramref name="bucketStartMs"/>, for the API.</summary>
    DetectorVerdict Peek(long bucketStartMs);

    /// <summary>Writes the detector's state.</summary>
    void Write(BinaryWriter writer);

    /// <summary>Restores state written by <see cref="Write"/>.</summary>
    void Read(BinaryReader reader);
}
