namespace AnomalyZT.Grains.Detectors.SpectralResidual;

/// <summary>
/// Batch spectral-residual detector over a whole series (ML.NET's <c>DetectEntireAnomalyBySrCnn</c>).
/// </summary>
/// <remarks>
/// The series is cut into consecutive batches of <see cref="SrBatchOptions.BatchSize"/> points (−1: one batch),
/// each scored on its own with fixed constants lookahead 5, back-add 5, averaging 3 and judgement min(N, 40).
/// A final batch shorter than 12 points is scored inside a window made of the last BatchSize points of the
/// series (the tail of the previous batch plus itself); only its own points take those scores. A series
/// shorter than 12 points is rejected. Divisions by S̄ use max(S̄, 1e-8), as the streaming detector does, so
/// no NaN or infinity can come out. The z-filter only cancels points that were anomalies (their score becomes 0);
/// the expected-value step then sees those filtered scores. Allocates per call (O(N) plus the DFT plans);
/// thread-safe, since it keeps no mutable state.
/// </remarks>
public sealed partial class SrBatchDetector
{
    /// <summary>Fewest points a batch (and a series) may have.</summary>
    public const int MinPoints = 12;

    /// <summary>Largest accepted |value|: sums of squares of larger values could overflow.</summary>
    public const double MaxMagnitude = 1e100;

    private const int Lookahead = 5;
    private const int BackAdd = 5;
    private const int Averaging = 3;
    private const int MaxJudgement = 40;
    private const int ReplacedAverages = 12;
    private const int ReplacementSource = 10;
    private const double MinAverage = 1e-8;
    private const double ZFilter = 1.5;
    private const double MinSigma = 1e-8;

    private readonly SrBatchOptions _options;

    /// <summary>Validates <paramref name="options"/> and keeps them.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is outside its range; the message names it, its
    /// value and the range.</exception>
    public SrBatchDetector(SrBatchOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!(options.Threshold >= 0 && options.Threshold <= 1))
        {
            throw OutOfRange("Threshold", options.Threshold, "in [0, 1]");
        }

        if (!(options.Sensitivity >= 0 && options.Sensitivity <= 100))
        {
            throw OutOfRange("Sensitivity", options.Sensitivity, "in [0, 100]");
        }

        if (options.Period < 0)
        {
            throw OutOfRange("Period", options.Period, "0 (no seasonality) or positive");
        }

        if (options.BatchSize != -1 && options.BatchSize < MinPoints)
        {
            throw OutOfRange("BatchSize", options.BatchSize, "-1 (whole series) or at least 12");
        }

        if (options.BatchSize != -1 && (long)options.BatchSize < 4L * options.Period)
        {
            throw OutOfRange("BatchSize", options.BatchSize, $"-1 or at least 4·Period = {4L * options.Period}");
        }

        if (!Enum.IsDefined(options.DetectMode))
        {
            throw OutOfRange("DetectMode", options.DetectMode, "a defined SrDetectMode");
        }

        if (!Enum.IsDefined(options.DeseasonalityMode))
        {
            throw OutOfRange("DeseasonalityMode", options.DeseasonalityMode, "a defined SrDeseasonalityMode");
        }

        _options = options;
    }

    /// <summary>The validated options.</summary>
    public SrBatchOptions Options => _options;

    /// <summary>
    /// Function-style entry with ML.NET's function defaults (batch 1024, sensitivity 99, no period).
    /// </summary>
    /// <param name="series">Values, all finite.</param>
    /// <param name="threshold">Threshold on the clipped SR score, in [0, 1].</param>
    /// <param name="batchSize">−1 (whole series) or at least 12.</param>
    /// <param name="sensitivity">Margin sensitivity in [0, 100].</param>
    /// <param name="detectMode">What to compute per point.</param>
    /// <returns>One point per input value.</returns>
    public static SrBatchPoint[] DetectEntireAnomalyBySrCnn(
        ReadOnlySpan<double> series,
        double threshold = SrBatchOptions.DefaultThreshold,
        int batchSize = SrBatchOptions.FunctionDefaultBatchSize,
        double sensitivity = SrBatchOptions.FunctionDefaultSensitivity,
        SrDetectMode detectMode = SrDetectMode.AnomalyOnly)
    {
        var options = new SrBatchOptions
        {
            Threshold = threshold,
            BatchSize = batchSize,
            Sensitivity = sensitivity,
            DetectMode = detectMode,
        };
        return new SrBatchDetector(options).Detect(series);
    }

    /// <summary>Scores every point of <paramref name="series"/>.</summary>
    /// <returns>One point per value; empty for an empty series.</returns>
    /// <exception cref="ArgumentException">The series has 1 to 11 points ("input must contain no less than 12
    /// points"), or a value that is not finite or exceeds <see cref="MaxMagnitude"/> in magnitude.</exception>
    public SrBatchPoint[] Detect(ReadOnlySpan<double> series)
    {
        for (var i = 0; i < series.Length; i++)
        {
            if (!(Math.Abs(series[i]) <= MaxMagnitude))
            {
                throw new ArgumentException($"series[{i}] is {series[i]}; every value must be finite and within ±{MaxMagnitude}.", nameof(series));
            }
        }

        var total = series.Length;
        if (total == 0)
        {
            return [];
        }

        if (total < MinPoints)
        {
            throw new ArgumentException("input must contain no less than 12 points", nameof(series));
        }

        var result = new SrBatchPoint[total];
        var size = _options.BatchSize == -1 ? total : _options.BatchSize;
        for (var start = 0; start < total; start += size)
        {
            var length = Math.Min(size, total - start);
            if (length >= MinPoints)
            {
                ScoreBatch(series.Slice(start, length), result.AsSpan(start, length));
                continue;
            }

            // Short final batch (start ≥ size here, since total ≥ 12): score the last `size` points.
            var window = new SrBatchPoint[size];
            ScoreBatch(series[(total - size)..], window);
            window.AsSpan(size - length).CopyTo(result.AsSpan(start));
        }

        return result;
    }

    private void ScoreBatch(ReadOnlySpan<double> x, Span<SrBatchPoint> output)
    {
        var n = x.Length;
        var stats = BatchStats.Of(x);
        var y = new double[n];
        if (_options.Period > 0)
        {
            Deseasonalizer.Residual(x, _options.Period, _options.DeseasonalityMode, y);
        }
        else
        {
            x.CopyTo(y);
        }

        var map = new SaliencyMap(n, BackAdd);
        y.CopyTo(map.Window);
        var mag = map.Compute(Lookahead, Averaging)[..n].ToArray();
        var scores = new double[n];
        var anomalies = new bool[n];
        SrScores(mag, y, stats, _options.Threshold, scores, anomalies);

        switch (_options.DetectMode)
        {
            case SrDetectMode.AnomalyOnly:
                for (var i = 0; i < n; i++)
                {
                    output[i] = new SrBatchPoint(anomalies[i], scores[i], mag[i], 0, 0, 0, 0);
                }

                break;
            case SrDetectMode.AnomalyAndExpectedValue:
                var expected = ExpectedValues(x, y, scores);
                for (var i = 0; i < n; i++)
                {
                    output[i] = new SrBatchPoint(anomalies[i], scores[i], mag[i], SignClamp(expected[i], stats), 0, 0, 0);
                }

                break;
            default:
                Margins(x, y, mag, scores, anomalies, stats, output);
                break;
        }
    }

    /// <summary>
    /// score_i = clip(|S_i − S̄_i| / max(S̄_i, 1e-8) / 10, 0, 1) with S̄ the trailing mean over min(N, 40) points
    /// (S̄_0..S̄_11 replaced by S̄_10); anomalies above the threshold, then the z-filter on y against x's μ, σ.
    /// </summary>
    internal static void SrScores(ReadOnlySpan<double> mag, ReadOnlySpan<double> y, in BatchStats stats, double threshold, Span<double> scores, Span<bool> anomalies)
    {
        var n = mag.Length;
        var judgement = Math.Min(n, MaxJudgement);
        var averages = new double[n];
        for (var i = 0; i < n; i++)
        {
            // Summed in the same order as SrStreamingDetector.Judge, so a full window gives identical bits.
            var from = Math.Max(0, i - judgement + 1);
            var sum = 0.0;
            for (var j = from; j <= i; j++)
            {
                sum += mag[j];
            }

            averages[i] = sum / (i - from + 1);
        }

        averages.AsSpan(0, ReplacedAverages).Fill(averages[ReplacementSource]);
        for (var i = 0; i < n; i++)
        {
            var score = Math.Clamp(Math.Abs(mag[i] - averages[i]) / Math.Max(averages[i], MinAverage) / 10, 0, 1);
            var anomaly = score > threshold;
            if (anomaly && (stats.Sigma < MinSigma || Math.Abs(y[i] - stats.Mean) / stats.Sigma < ZFilter))
            {
                anomaly = false;
                score = 0;
            }

            scores[i] = score;
            anomalies[i] = anomaly;
        }
    }

    private static double SignClamp(double value, in BatchStats stats)
    {
        if (stats.Min >= 0 && value < 0)
        {
            return 0;
        }

        return stats.Max <= 0 && value > 0 ? 0 : value;
    }

    private static ArgumentOutOfRangeException OutOfRange<T>(string name, T value, string range) =>
        new(name, value, $"{name} is {value}; {name} must be {range}.");

    /// <summary>Population mean and standard deviation, minimum and maximum of one batch of x.</summary>
    internal readonly record struct BatchStats(double Mean, double Sigma, double Min, double Max)
    {
        public static BatchStats Of(ReadOnlySpan<double> x)
        {
            double sum = 0, min = double.PositiveInfinity, max = double.NegativeInfinity;
            for (var i = 0; i < x.Length; i++)
            {
                sum += x[i];
                min = Math.Min(min, x[i]);
                max = Math.Max(max, x[i]);
            }

            var mean = sum / x.Length;
            var squares = 0.0;
            for (var i = 0; i < x.Length; i++)
            {
                var d = x[i] - mean;
                squares += d * d;
            }

            return new BatchStats(mean, Math.Sqrt(squares / x.Length), min, max);
        }
    }
}
