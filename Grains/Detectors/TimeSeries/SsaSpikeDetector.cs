namespace AnomalyZT.Grains.Detectors.TimeSeries;

/// <summary>SSA spike detector (detectors-spec §3 with §0/§1; ML.NET <c>DetectSpikeBySsa</c>): the raw score is the error
/// of the SSA forecast, e_t = f(x_t, ŷ_t) with ŷ_t predicted before x_t is consumed; alert when the p-value history is
/// full and p ≤ 1 − confidence/100. Defaults: confidence 99, history 100, training window 100, seasonality window 10,
/// two-sided, signed difference.</summary>
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
public sealed class SsaSpikeDetector : IStreamingDetector
{
    /// <summary>Default confidence, percent.</summary>
    public const double DefaultConfidence = 99;

    /// <summary>Default p-value history length.</summary>
    public const int DefaultHistory = 100;

    /// <summary>Default training window N.</summary>
    public const int DefaultTrainingWindowSize = 100;

    /// <summary>Default seasonality window L.</summary>
    public const int DefaultSeasonalityWindowSize = 10;

    private const byte StateVersion = 1;
    private readonly SsaDetectorCore _core;
    private readonly PValueHistory _history;
    private readonly AnomalySide _side;
    private readonly double _alpha;
    private long _rows;

    /// <summary>Creates a detector.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Confidence outside (0, 100), history &lt; 1, seasonality window outside
    /// [2, 1000], trainingWindowSize ≤ 2·seasonalityWindowSize, or an undefined error function.</exception>
    public SsaSpikeDetector(
        double confidence = DefaultConfidence,
        int pvalueHistoryLength = DefaultHistory,
        int trainingWindowSize = DefaultTrainingWindowSize,
        int seasonalityWindowSize = DefaultSeasonalityWindowSize,
        AnomalySide side = AnomalySide.TwoSided,
        ErrorFunction errorFunction = ErrorFunction.SignedDifference)
    {
        if (!(confidence > 0 && confidence < 100))
        {
            throw new ArgumentOutOfRangeException(nameof(confidence), confidence, $"confidence is {confidence}; it must lie in (0, 100)");
        }

        _history = new PValueHistory(pvalueHistoryLength);
        _core = new SsaDetectorCore(trainingWindowSize, seasonalityWindowSize, errorFunction);
        _core.Score = Score;
        _side = side;
        _alpha = 1 - (confidence / 100);
    }

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
        int pvalueHistoryLength = DefaultHistory,
        int trainingWindowSize = DefaultTrainingWindowSize,
        int seasonalityWindowSize = DefaultSeasonalityWindowSize,
        AnomalySide side = AnomalySide.TwoSided,
        ErrorFunction errorFunction = ErrorFunction.SignedDifference)
    {
        var detector = new SsaSpikeDetector(confidence, pvalueHistoryLength, trainingWindowSize, seasonalityWindowSize, side, errorFunction);
        return detector._core.Run(series);
    }

    /// <summary>Writes the detector's state: warm-up rows or the trained model and its state, plus history and counters.</summary>
    public void Write(BinaryWriter writer)
    {
        writer.Write(StateVersion);
        writer.Write(_rows);
        _core.Write(writer);
        _history.Write(writer);
    }

    /// <summary>Restores what <see cref="Write"/> wrote (by a detector with the same parameters).</summary>
    /// <exception cref="InvalidDataException">Unknown version or sizes that do not fit this detector.</exception>
    public void Read(BinaryReader reader)
    {
        StateVersions.Check(reader.ReadByte(), StateVersion, "ssa-spike");
        _rows = reader.ReadInt64();
        _core.Read(reader);
        _history.Read(reader);
    }

    private TimeSeriesOutput Score(double x)
    {
        if (!_core.TryScore(x, out var error))
        {
            return TimeSeriesOutput.Missing;
        }

        _rows++;
        var p = _history.PValue(error, _side);
        var alert = _rows >= _history.Capacity && p <= _alpha;
        _history.Add(error);
        return new TimeSeriesOutput(alert, error, p, double.NaN);
    }
}
