namespace AnomalyZT.Grains.Detectors.SpectralResidual;

/// <summary>What <see cref="SrBatchDetector"/> computes for each point.</summary>
public enum SrDetectMode
{
    /// <summary>IsAnomaly, Score (the SR raw score) and Mag.</summary>
    AnomalyOnly = 0,

    /// <summary>AnomalyOnly plus ExpectedValue.</summary>
    AnomalyAndExpectedValue = 1,

    /// <summary>IsAnomaly, Score (the anomaly score from the margin table), Mag, ExpectedValue, BoundaryUnit,
    /// UpperBoundary and LowerBoundary.</summary>
    AnomalyAndMargin = 2,
}

/// <summary>How a batch is deseasonalised before SR when a period is given.</summary>
public enum SrDeseasonalityMode
{
    /// <summary>STL residual (trend and season removed); falls back to <see cref="Median"/> when STL cannot run.</summary>
    Stl = 0,

    /// <summary>Subtract the per-phase (i mod period) mean.</summary>
    Mean = 1,

    /// <summary>Subtract the per-phase (i mod period) median.</summary>
    Median = 2,
}

/// <summary>One scored point of <see cref="SrBatchDetector"/>. Fields the chosen mode does not compute are 0.</summary>
/// <param name="IsAnomaly">SR anomaly after the z-filter; in margin mode additionally outside the boundaries.</param>
/// <param name="Score">AnomalyOnly and AnomalyAndExpectedValue: clip(raw, 0, 1), 0 where the z-filter cancelled
/// the anomaly. AnomalyAndMargin: the anomaly score in [0, 1] from the inverse margin table, 0 for non-anomalies.</param>
/// <param name="Mag">Saliency S at the point.</param>
/// <param name="ExpectedValue">Expected value (sign-clamped; in margin mode clamped near x for non-anomalies).</param>
/// <param name="BoundaryUnit">Margin unit: 0.5·mean|trend| + 0.5·|trend_i|, or 0.3 for a flat trend.</param>
/// <param name="UpperBoundary">Upper boundary of the normal range.</param>
/// <param name="LowerBoundary">Lower boundary of the normal range.</param>
public readonly record struct SrBatchPoint(
    bool IsAnomaly,
    double Score,
    double Mag,
    double ExpectedValue,
    double BoundaryUnit,
    double UpperBoundary,
    double LowerBoundary);

/// <summary>
/// Options of <see cref="SrBatchDetector"/>. The defaults are those of ML.NET's options object (batch 2000,
/// sensitivity 70, STL); the function-style <see cref="SrBatchDetector.DetectEntireAnomalyBySrCnn"/> defaults
/// to batch 1024 and sensitivity 99 instead.
/// </summary>
public sealed class SrBatchOptions
{
    /// <summary>Default threshold on the clipped SR score.</summary>
    public const double DefaultThreshold = 0.3;

    /// <summary>Batch size default of the options object.</summary>
    public const int DefaultBatchSize = 2000;

    /// <summary>Batch size default of the function-style call.</summary>
    public const int FunctionDefaultBatchSize = 1024;

    /// <summary>Sensitivity default of the options object.</summary>
    public const double DefaultSensitivity = 70;

    /// <summary>Sensitivity default of the function-style call.</summary>
    public const double FunctionDefaultSensitivity = 99;

    /// <summary>Anomaly threshold on the clipped score, in [0, 1]; a point is anomalous when score &gt; threshold.</summary>
    public double Threshold { get; init; } = DefaultThreshold;

    /// <summary>Points per independently scored batch: −1 for the whole series, otherwise at least 12 and at
    /// least 4·<see cref="Period"/>.</summary>
    public int BatchSize { get; init; } = DefaultBatchSize;

    /// <summary>Margin sensitivity in [0, 100]; higher gives narrower boundaries.</summary>
    public double Sensitivity { get; init; } = DefaultSensitivity;

    /// <summary>What to compute per point.</summary>
    public SrDetectMode DetectMode { get; init; } = SrDetectMode.AnomalyOnly;

    /// <summary>Seasonal period in points, 0 for none.</summary>
    public int Period { get; init; }

    /// <summary>Deseasonalisation used when <see cref="Period"/> &gt; 0.</summary>
    public SrDeseasonalityMode DeseasonalityMode { get; init; } = SrDeseasonalityMode.Stl;
}
