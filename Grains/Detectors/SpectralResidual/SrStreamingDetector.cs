namespace AnomalyZT.Grains.Detectors.SpectralResidual;

/// <summary>
/// Streaming spectral-residual detector (ML.NET's <c>DetectAnomalyBySrCnn</c>; despite the name there is no CNN).
/// Each value is judged by the saliency of the last point of a sliding window that ends with it.
/// </summary>
/// <remarks>
/// Per update: extrapolate ĝ from the points before the current one, append <c>backAdd</c> copies, DFT, replace
/// log-amplitudes by their residual against a trailing moving average over frequency, inverse DFT; the
/// saliency S is the modulus. raw = |S_i − S̄_i| / max(S̄_i, 1e-8) / 10 at the current point i = n−1, where S̄ is
/// the trailing mean of S over the judgement window. Cost O(N log N) with N = windowSize + backAdd; no
/// allocation (ring buffer plus a preallocated <see cref="SaliencyMap"/>). Not thread-safe: one instance per
/// series. Non-finite inputs are skipped: they return (false, 0, 0) and leave the state unchanged.
/// </remarks>
public sealed partial class SrStreamingDetector
{
    /// <summary>Window size default of the <c>DetectAnomalyBySrCnn</c> function.</summary>
    public const int DefaultWindowSize = 64;

    /// <summary>Window size default of ML.NET's options object (<c>SrCnnAnomalyDetector.Options</c>).</summary>
    public const int OptionsDefaultWindowSize = 24;

    /// <summary>Default number of extrapolated points appended to the window.</summary>
    public const int DefaultBackAddWindowSize = 5;

    /// <summary>Default number of earlier points the extrapolation uses.</summary>
    public const int DefaultLookaheadWindowSize = 5;

    /// <summary>Default width of the trailing moving average over the log-amplitude spectrum.</summary>
    public const int DefaultAveragingWindowSize = 3;

    /// <summary>Default width of the trailing mean of the saliency map.</summary>
    public const int DefaultJudgementWindowSize = 21;

    /// <summary>Default alert threshold on the clipped raw score.</summary>
    public const double DefaultThreshold = 0.3;

    private const double MinAverage = 1e-8;

    private readonly double[] _ring;
    private readonly SaliencyMap _map;
    private int _head;
    private int _count;

    /// <summary>Creates a detector with an empty window.</summary>
    /// <param name="windowSize">Points per window n, at least 1.</param>
    /// <param name="backAddWindowSize">Copies of the extrapolated value appended, at least 1.</param>
    /// <param name="lookaheadWindowSize">Earlier points used to extrapolate, in [1, windowSize].</param>
    /// <param name="averagingWindowSize">Moving-average width over frequency, in [1, windowSize].</param>
    /// <param name="judgementWindowSize">Width of the trailing saliency mean, in [1, windowSize].</param>
    /// <param name="threshold">Alert threshold on clip(raw, 0, 1), in (0, 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is outside its range; the message names it,
    /// its value and the range.</exception>
    public SrStreamingDetector(
        int windowSize = DefaultWindowSize,
        int backAddWindowSize = DefaultBackAddWindowSize,
        int lookaheadWindowSize = DefaultLookaheadWindowSize,
        int averagingWindowSize = DefaultAveragingWindowSize,
        int judgementWindowSize = DefaultJudgementWindowSize,
        double threshold = DefaultThreshold)
    {
        if (windowSize < 1 || windowSize > MaxWindowSize)
        {
            throw OutOfRange(nameof(windowSize), windowSize, $"in [1, {MaxWindowSize}]");
        }

        if (backAddWindowSize < 1 || backAddWindowSize > MaxWindowSize)
        {
            throw OutOfRange(nameof(backAddWindowSize), backAddWindowSize, $"in [1, {MaxWindowSize}]");
        }

        CheckWithinWindow(nameof(lookaheadWindowSize), lookaheadWindowSize, windowSize);
        CheckWithinWindow(nameof(averagingWindowSize), averagingWindowSize, windowSize);
        CheckWithinWindow(nameof(judgementWindowSize), judgementWindowSize, windowSize);
        if (!(threshold > 0 && threshold < 1))
        {
            throw OutOfRange(nameof(threshold), threshold, "in (0, 1), both ends excluded");
        }

        WindowSize = windowSize;
        BackAddWindowSize = backAddWindowSize;
        LookaheadWindowSize = lookaheadWindowSize;
        AveragingWindowSize = averagingWindowSize;
        JudgementWindowSize = judgementWindowSize;
        Threshold = threshold;
        _ring = new double[windowSize];
        _map = new SaliencyMap(windowSize, backAddWindowSize);
    }

    /// <summary>Largest accepted window (and back-add) size; keeps a state file from sizing huge buffers.</summary>
    public const int MaxWindowSize = 1 << 20;

    /// <summary>Points per window (n).</summary>
    public int WindowSize { get; }

    /// <summary>Copies of the extrapolated value appended to the window.</summary>
    public int BackAddWindowSize { get; }

    /// <summary>Earlier points the extrapolation uses (m).</summary>
    public int LookaheadWindowSize { get; }

    /// <summary>Width of the trailing moving average over the log-amplitude spectrum (q).</summary>
    public int AveragingWindowSize { get; }

    /// <summary>Width of the trailing mean of the saliency map.</summary>
    public int JudgementWindowSize { get; }

    /// <summary>Alert threshold on clip(raw, 0, 1).</summary>
    public double Threshold { get; }

    /// <summary>Finite values held, capped at <see cref="WindowSize"/>; scoring starts when it is full.</summary>
    public int Seen => _count;

    /// <summary>
    /// Adds <paramref name="value"/> and scores it. The first <see cref="WindowSize"/>−1 finite values return
    /// (false, 0, 0), as does a non-finite value (which is not added).
    /// </summary>
    /// <returns>Alert = clip(raw, 0, 1) &gt; threshold; RawScore = raw, unclipped; Mag = saliency S at the value.</returns>
    public (bool Alert, double RawScore, double Mag) Update(double value)
    {
        if (!double.IsFinite(value))
        {
            return (false, 0, 0);
        }

        var n = _ring.Length;
        _ring[_head] = value;
        _head = _head + 1 == n ? 0 : _head + 1;
        if (_count < n)
        {
            _count++;
            if (_count < n)
            {
                return (false, 0, 0);
            }
        }

        // Unroll the ring into the map's window, oldest first: [_head, n) then [0, _head).
        var window = _map.Window;
        _ring.AsSpan(_head).CopyTo(window);
        _ring.AsSpan(0, _head).CopyTo(window[(n - _head)..]);
        var saliency = _map.Compute(LookaheadWindowSize, AveragingWindowSize);
        return Judge(saliency, n, JudgementWindowSize, Threshold);
    }

    /// <summary>Scores point <c>n−1</c> of a saliency map with a trailing judgement mean of width
    /// <paramref name="judgement"/> (≤ n).</summary>
    internal static (bool Alert, double RawScore, double Mag) Judge(ReadOnlySpan<double> saliency, int n, int judgement, double threshold)
    {
        var sum = 0.0;
        for (var i = n - judgement; i < n; i++)
        {
            sum += saliency[i];
        }

        var mag = saliency[n - 1];
        var average = sum / judgement;
        var raw = Math.Abs(mag - average) / Math.Max(average, MinAverage) / 10;
        return (Math.Clamp(raw, 0, 1) > threshold, raw, mag);
    }

    private static void CheckWithinWindow(string name, int value, int windowSize)
    {
        if (value < 1 || value > windowSize)
        {
            throw OutOfRange(name, value, $"in [1, windowSize] = [1, {windowSize}]");
        }
    }

    private static ArgumentOutOfRangeException OutOfRange<T>(string name, T value, string range) =>
        new(name, value, $"{name} is {value}; {name} must be {range}.");
}
