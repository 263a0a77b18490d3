namespace AnomalyZT.Grains.Detectors.TimeSeries;

/// <summary>SSA change-point detector (detectors-spec §3 with §0/§2; ML.NET <c>DetectChangePointBySsa</c>): the raw score
/// is the error of the SSA forecast, e_t = f(x_t, ŷ_t) with ŷ_t predicted before x_t is consumed; its two-sided p-values
/// feed a power or mixture martingale; alert when the history is full and M ≥ τ, at most once per W rows. Defaults:
/// confidence 95, history 20, training window 100, seasonality window 10, signed difference, Power, ε = 0.1.</summary>
/// <remarks>
/// <para>Streaming without look-ahead: the first N = trainingWindowSize finite rows are buffered; at the N-th the model
/// is trained on them and then those N rows are scored in order, starting from the state at the end of
/// training, exactly as the reference's Fit-then-transform does (so the first rows may look odd).
/// <see cref="Update(double)"/> returns <see cref="TimeSeriesOutput.Missing"/> (no alert, NaN scores) for rows 1..N−1,
/// and the N-th row's own output at row N; <see cref="Update(double, Span{TimeSeriesOutput})"/> also hands back the
/// outputs of all N buffered rows at that moment. From then on each row costs O(r·L + W) and allocates nothing.</para>
/// <para>Non-finite input (or a non-finite score, e.g. a squared error that overflows) yields <see cref="TimeSeriesOutput.Missing"/> and leaves model, history and counters untouched
/// (while warming up it does not count towards the N training rows: spec §3 trains on the first N non-NaN rows).</para>
/// </remarks>
public sealed class SsaChangePointDetector : IStreamingDetector
{
    /// <summary>Default confidence, percent.</summary>
    public const double DefaultConfidence = 95;

    /// <summary>Default change history length.</summary>
    public const int DefaultHistory = 20;

    /// <summary>Default ε of the betting function.</summary>
    public const double DefaultEpsilon = 0.1;

    /// <summary>Default training window N.</summary>
    public const int DefaultTrainingWindowSize = 100;

    /// <summary>Default seasonality window L.</summary>
    public const int DefaultSeasonalityWindowSize = 10;

    private const byte StateVersion = 1;
    private readonly SsaDetectorCore _core;
    private readonly PValueHistory _history;
    private readonly Martingale _martingale;
    private long _rows;

    /// <summary>Creates a detector.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Confidence outside (0, 100), ε outside (0, 1), history &lt; 1,
    /// seasonality window outside [2, 1000], trainingWindowSize ≤ 2·seasonalityWindowSize, or an undefined error function.</exception>
    public SsaChangePointDetector(
        double confidence = DefaultConfidence,
        int changeHistoryLength = DefaultHistory,
        int trainingWindowSize = DefaultTrainingWindowSize,
        int seasonalityWindowSize = DefaultSeasonalityWindowSize,
        ErrorFunction errorFunction = ErrorFunction.SignedDifference,
        MartingaleType martingale = MartingaleType.Power,
        double eps = DefaultEpsilon)
    {
        _history = new PValueHistory(changeHistoryLength);
        _martingale = new Martingale(martingale, eps, confidence, changeHistoryLength);
        _core = new SsaDetectorCore(trainingWindowSize, seasonalityWindowSize, errorFunction);
        _core.Score = Score;
    }

    /// <summary>τ: the martingale value that signals a change.</summary>
    public double Threshold => _martingale.Threshold;

    /// <summary>N: rows buffered before training.</summary>
    public int TrainingWindowSize => _core.TrainingWindowSize;

    /// <summary>True once the first N rows have been trained on and scored.</summary>
    public bool IsTrained => _core.IsTrained;

    /// <summary>ŷ, the forecast of the next row (0 before training or when training had too few values).</summary>
    public double Forecast => _core.Model.Forecast;

    /// <summary>The SSA model (for inspection; feeding it directly desynchronises the detector).</summary>
    internal SsaModel Model => _core.Model;

    /// <summary>Scores one row, then learns it. See the remarks for what is returned while warming up.</summary>
    public TimeSeriesOutput Update(double x) => _core.Update(x);

    /// <summary>Scores one row, then learns it, writing every output that became known: none while warming up, all N
    /// buffered rows (oldest first) when the N-th row completes training, one row afterwards.</summary>
    /// <param name="x">The row's value.</param>
    /// <param name="outputs">Room for the outputs: at least N while <see cref="IsTrained"/> is false, at least 1 after.</param>
    /// <returns>How many outputs were written.</returns>
    /// <exception cref="ArgumentException"><paramref name="outputs"/> is too short (nothing is consumed then).</exception>
    public int Update(double x, Span<TimeSeriesOutput> outputs) => _core.Update(x, outputs);

    /// <summary>ML.NET's Fit-then-transform over a whole series: trains on the first N rows (all rows if fewer), then
    /// scores every row from row 0. Output i belongs to row i. Equals what <see cref="Update(double, Span{TimeSeriesOutput})"/>
    /// produces when streamed.</summary>
    public static TimeSeriesOutput[] Run(
        ReadOnlySpan<double> series,
        double confidence = DefaultConfidence,
        int changeHistoryLength = DefaultHistory,
        int trainingWindowSize = DefaultTrainingWindowSize,
        int seasonalityWindowSize = DefaultSeasonalityWindowSize,
        ErrorFunction errorFunction = ErrorFunction.SignedDifference,
        MartingaleType martingale = MartingaleType.Power,
        double eps = DefaultEpsilon)
    {
        var detector = new SsaChangePointDetector(confidence, changeHistoryLength, trainingWindowSize, seasonalityWindowSize, errorFunction, martingale, eps);
        return detector._core.Run(series);
    }

    /// <summary>Writes the detector's state: warm-up rows or the trained model and its state, plus history, martingale and counters.</summary>
    public void Write(BinaryWriter writer)
    {
        writer.Write(StateVersion);
        writer.Write(_rows);
        _core.Write(writer);
        _history.Write(writer);
        _martingale.Write(writer);
    }

    /// <summary>Restores what <see cref="Write"/> wrote (by a detector with the same parameters).</summary>
    /// <exception cref="InvalidDataException">Unknown version or sizes that do not fit this detector.</exception>
    public void Read(BinaryReader reader)
    {
        StateVersions.Check(reader.ReadByte(), StateVersion, "ssa-changepoint");
        _rows = reader.ReadInt64();
        _core.Read(reader);
        _history.Read(reader);
        _martingale.Read(reader);
    }

    private TimeSeriesOutput Score(double x)
    {
        if (!_core.TryScore(x, out var error))
        {
            return TimeSeriesOutput.Missing;
        }

        _rows++;
        var p = _history.PValue(error, AnomalySide.TwoSided);
        var (m, alert) = _martingale.Update(p, _rows >= _history.Capacity);
        _history.Add(error);
        return new TimeSeriesOutput(alert, error, p, m);
    }
}
