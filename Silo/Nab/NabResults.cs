namespace AnomalyZT.Silo.Nab;

/// <summary>The corpus raw score at one threshold.</summary>
/// <param name="Threshold">Rows scoring at least this are detections.</param>
/// <param name="RawScore">Σ over windows (best TP score or −A_FN) + Σ weighted FP scores.</param>
/// <param name="TruePositives">Scored windows with at least one detection.</param>
/// <param name="FalsePositives">Detections outside every window, after probation.</param>
/// <param name="FalseNegatives">Scored windows without a detection.</param>
public readonly record struct NabThresholdScore(double Threshold, double RawScore, int TruePositives, int FalsePositives, int FalseNegatives);

/// <summary>A detector's result under one profile: the optimised threshold, its raw score and the normalised score.</summary>
/// <param name="Profile">The profile.</param>
/// <param name="NormalizedScore">100·(raw − null)/(perfect − null).</param>
/// <param name="Best">The optimised threshold with its raw score and counts.</param>
/// <param name="NullScore">The raw score of the detector that never alerts.</param>
/// <param name="PerfectScore">The raw score of the detector that alerts on each window's first row.</param>
public sealed record NabProfileResult(NabProfile Profile, double NormalizedScore, NabThresholdScore Best, double NullScore, double PerfectScore);
