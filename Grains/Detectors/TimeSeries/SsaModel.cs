namespace AnomalyZT.Grains.Detectors.TimeSeries;

/// <summary>The singular-spectrum forecaster behind the SSA detectors (detectors-spec §3): trained once on a window of
/// N values, then frozen; only its state moves as observations arrive.</summary>
/// <remarks>
/// Training (see <see cref="Train"/>) picks a rank r and the linear recurrent formula α over the top r eigenvectors U_r
/// of the lag-covariance XXᵀ of the L×(N−L+1) Hankel matrix. The state s holds the smoothed last L−1 values; the forecast
/// of the next value is α·s. Each observation v costs O(r·L) and allocates nothing: the window
/// w = [last L−1 observations (state values stand in for positions not yet observed since training), v] is projected,
/// z = U_r·U_rᵀ·w, and s becomes the running average of the projections of each position (a Hankel average). An untrained
/// model (fewer than 2L + 1 usable training values) forecasts 0 and ignores observations. Not thread-safe.
/// </remarks>
public sealed partial class SsaModel
{
    /// <summary>The largest seasonality window accepted (training is O(L³) in it).</summary>
    public const int MaxSeasonalityWindowSize = 1000;

    private double[] _basis = [];
    private double[] _alpha = [];
    private double[] _state = [];
    private double[] _observed = [];
    private double[] _window = [];
    private double[] _projection = [];
    private double[] _coefficients = [];
    private int _observedHead;
    private int _observedCount;
    private int _windowSize;
    private int _rank;
    private double _forecast;

    /// <summary>Creates an untrained model.</summary>
    /// <param name="trainingWindowSize">N, the values <see cref="Train"/> uses; must exceed 2·<paramref name="seasonalityWindowSize"/>.</param>
    /// <param name="seasonalityWindowSize">L, the Hankel window; 2 to <see cref="MaxSeasonalityWindowSize"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">L outside [2, 1000], or N ≤ 2L.</exception>
    public SsaModel(int trainingWindowSize, int seasonalityWindowSize)
    {
        if (seasonalityWindowSize < 2 || seasonalityWindowSize > MaxSeasonalityWindowSize)
        {
            throw new ArgumentOutOfRangeException(
                nameof(seasonalityWindowSize), seasonalityWindowSize,
                $"seasonalityWindowSize is {seasonalityWindowSize}; it must lie in [2, {MaxSeasonalityWindowSize}]");
        }

        if (trainingWindowSize <= 2 * seasonalityWindowSize)
        {
            throw new ArgumentOutOfRangeException(
                nameof(trainingWindowSize), trainingWindowSize,
                $"trainingWindowSize is {trainingWindowSize}; it must exceed 2 × seasonalityWindowSize = {2 * seasonalityWindowSize}");
        }

        TrainingWindowSize = trainingWindowSize;
        SeasonalityWindowSize = seasonalityWindowSize;
    }

    /// <summary>N, the number of leading values <see cref="Train"/> uses.</summary>
    public int TrainingWindowSize { get; }

    /// <summary>L as configured.</summary>
    public int SeasonalityWindowSize { get; }

    /// <summary>True when training found a model; false before <see cref="Train"/> or when it had too few values.</summary>
    public bool IsTrained => _windowSize > 0;

    /// <summary>The window L in use: the configured one, less one per "unit last component" retrain; 0 when untrained.</summary>
    public int WindowSize => _windowSize;

    /// <summary>The selected rank r (0 when untrained).</summary>
    public int Rank => _rank;

    /// <summary>ŷ, the forecast of the next observation (0 when untrained).</summary>
    public double Forecast => _forecast;

    /// <summary>α, the L−1 coefficients of the linear recurrent formula (oldest position first).</summary>
    public ReadOnlySpan<double> Alpha => _alpha;

    /// <summary>s, the smoothed last L−1 values (oldest first).</summary>
    public ReadOnlySpan<double> State => _state;

    /// <summary>U_r column-major: component k of eigenvector i is at [i·L + k].</summary>
    internal ReadOnlySpan<double> Basis => _basis;

    /// <summary>Feeds one observation: updates the state and <see cref="Forecast"/>. Non-finite values are skipped
    /// (state untouched). O(r·L), no allocation.</summary>
    public void Consume(double value)
    {
        if (!double.IsFinite(value) || _windowSize == 0)
        {
            return;
        }

        var l = _windowSize;
        var lag = l - 1;
        var w = _window;

        // Positions not yet observed since training take the state's smoothed value.
        var fromState = lag - _observedCount;
        for (var i = 0; i < fromState; i++)
        {
            w[i] = _state[i];
        }

        var slot = _observedHead;
        for (var i = fromState; i < lag; i++)
        {
            w[i] = _observed[slot];
            slot = slot + 1 == lag ? 0 : slot + 1;
        }

        w[lag] = value;
        Project(w, _projection);

        // Running Hankel average: s_k already averages L−2−k projections of its position; add this one.
        var z = _projection;
        var s = _state;
        for (var k = 0; k < lag - 1; k++)
        {
            s[k] = (((lag - 1 - k) * s[k + 1]) + z[k + 1]) / (lag - k);
        }

        s[lag - 1] = z[lag];

        if (_observedCount < lag)
        {
            var tail = _observedHead + _observedCount;
            _observed[tail >= lag ? tail - lag : tail] = value;
            _observedCount++;
        }
        else
        {
            _observed[_observedHead] = value;
            _observedHead = _observedHead + 1 == lag ? 0 : _observedHead + 1;
        }

        _forecast = Dot(_alpha, _state);
    }

    /// <summary>z = U_r·U_rᵀ·w.</summary>
    private void Project(double[] w, double[] z)
    {
        var l = _windowSize;
        var u = _basis;
        for (var c = 0; c < _rank; c++)
        {
            var acc = 0.0;
            var col = c * l;
            for (var i = 0; i < l; i++)
            {
                acc += u[col + i] * w[i];
            }

            _coefficients[c] = acc;
        }

        Array.Clear(z);
        for (var c = 0; c < _rank; c++)
        {
            var y = _coefficients[c];
            var col = c * l;
            for (var i = 0; i < l; i++)
            {
                z[i] += u[col + i] * y;
            }
        }
    }

    private static double Dot(double[] a, double[] b)
    {
        var acc = 0.0;
        for (var i = 0; i < a.Length; i++)
        {
            acc += a[i] * b[i];
        }

        return acc;
    }

    /// <summary>Installs a trained model and its initial state: w = the last L training values, s_k = (U_r·U_rᵀ·w)_{k+1}.</summary>
    private void Install(int windowSize, int rank, double[] vectors, double[] alpha, ReadOnlySpan<double> training)
    {
        Allocate(windowSize, rank);
        Array.Copy(vectors, _basis, windowSize * rank);
        Array.Copy(alpha, _alpha, windowSize - 1);
        training[^windowSize..].CopyTo(_window);
        Project(_window, _projection);
        Array.Copy(_projection, 1, _state, 0, windowSize - 1);
        _forecast = Dot(_alpha, _state);
    }

    private void Allocate(int windowSize, int rank)
    {
        _windowSize = windowSize;
        _rank = rank;
        _basis = new double[windowSize * rank];
        _alpha = new double[windowSize - 1];
        _state = new double[windowSize - 1];
        _observed = new double[windowSize - 1];
        _window = new double[windowSize];
        _projection = new double[windowSize];
        _coefficients = new double[rank];
        _observedHead = 0;
        _observedCount = 0;
    }

    private void Untrain()
    {
        _windowSize = 0;
        _rank = 0;
        _basis = [];
        _alpha = [];
        _state = [];
        _observed = [];
        _window = [];
        _projection = [];
        _coefficients = [];
        _observedHead = 0;
        _observedCount = 0;
        _forecast = 0;
    }
}
