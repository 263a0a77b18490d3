namespace AnomalyZT.Grains.Detectors.SpectralResidual;

/// <summary>
/// The spectral-residual saliency map of one window (spec 4a steps 1–4), shared by the streaming and batch
/// detectors so that both compute the same numbers for the same window.
/// </summary>
/// <remarks>
/// Two numerical guards the spec leaves implicit, both inert on ordinary data:
/// <list type="bullet">
/// <item>A bin whose amplitude is at rounding-noise level (A ≤ 1e-13·Σ|x|) counts as A = 0 (Λ = 0, F' = 0).
/// In exact arithmetic a flat window has a single non-zero bin; floating-point FFTs leave ~1e-16 noise in the
/// others, and the log-amplitude normalisation would blow that noise up to O(1) and alert on flat data.</item>
/// <item>When max|x| leaves [2^-400, 2^400] the window is multiplied by a power of two (exact) first, so the
/// squared amplitudes cannot overflow or underflow. Spectral residual is scale-invariant apart from the
/// "Λ = 0 where A = 0" convention.</item>
/// </list>
/// </remarks>
internal sealed class SaliencyMap
{
    /// <summary>Amplitudes at or below this fraction of Σ|x| are treated as exact zeros.</summary>
    internal const double NoiseFloor = 1e-13;

    private const double UpperScale = 2.582249878086908e120; // 2^400
    private const double LowerScale = 3.872591914849318e-121; // 2^-400

    // Transform tables and scratch are per thread and per length, not per series: a grain per entity and feature
    // would otherwise hold ~16 KB of identical tables each. A partition thread uses them only inside one update.
    [ThreadStatic]
    private static Dictionary<int, Workspace>? t_workspaces;

    private readonly int _extended;

    /// <summary>Buffers for windows of <paramref name="windowLength"/> points extended by <paramref name="backAdd"/>.</summary>
    public SaliencyMap(int windowLength, int backAdd)
    {
        WindowLength = windowLength;
        BackAdd = backAdd;
        _extended = windowLength + backAdd;
    }

    private Workspace Scratch
    {
        get
        {
            var all = t_workspaces ??= [];
            if (!all.TryGetValue(_extended, out var w))
            {
                w = new Workspace(_extended);
                all[_extended] = w;
            }

            return w;
        }
    }

    /// <summary>Points in the window (n).</summary>
    public int WindowLength { get; }

    /// <summary>Copies of the extrapolated value appended to the window.</summary>
    public int BackAdd { get; }

    /// <summary>The window to fill before <see cref="Compute"/> (n values, oldest first, current last).</summary>
    public Span<double> Window => Scratch.Re.AsSpan(0, WindowLength);

    /// <summary>
    /// Extrapolates, appends the back-add copies, and returns S = |IDFT(F')| over the extended window (n + backAdd
    /// points). Overwrites <see cref="Window"/>; the returned span is valid until the next call.
    /// </summary>
    public ReadOnlySpan<double> Compute(int lookahead, int averaging)
    {
        var n = WindowLength;
        var scratch = Scratch;
        var re = scratch.Re.AsSpan();
        var im = scratch.Im.AsSpan();
        ScaleIntoRange(re[..n]);
        re[n..].Fill(Extrapolate(re[..n], lookahead));
        im.Clear();
        var l1 = 0.0;
        for (var i = 0; i < re.Length; i++)
        {
            l1 += Math.Abs(re[i]);
        }

        Dft.Forward(scratch.Plan, re, im);
        var floor = NoiseFloor * l1;
        var lambda = scratch.LogAmplitude.AsSpan();
        var runningSum = 0.0;
        for (var k = 0; k < re.Length; k++)
        {
            var amplitude = Math.Sqrt(re[k] * re[k] + im[k] * im[k]);
            var isZero = amplitude <= floor;
            var logAmp = isZero ? 0.0 : Math.Log(amplitude);
            lambda[k] = logAmp;

            // Trailing mean of Λ over [k−q+1, k]; the first entries average what exists.
            runningSum += logAmp;
            if (k >= averaging)
            {
                runningSum -= lambda[k - averaging];
            }

            var average = runningSum / Math.Min(k + 1, averaging);
            if (isZero)
            {
                re[k] = 0;
                im[k] = 0;
            }
            else
            {
                var factor = Math.Exp(logAmp - average) / amplitude;
                re[k] *= factor;
                im[k] *= factor;
            }
        }

        Dft.Inverse(scratch.Plan, re, im);
        for (var k = 0; k < re.Length; k++)
        {
            re[k] = Math.Sqrt(re[k] * re[k] + im[k] * im[k]);
        }

        return re;
    }

    /// <summary>
    /// ĝ = y_1 + Σ_{i&lt;m} (y_m − y_i)/(m − i), where y_0..y_m are the m+1 values before the last one.
    /// </summary>
    /// <remarks>
    /// When the window holds fewer than m+1 earlier values (lookahead close to the window size is legal),
    /// m is reduced to n−2; with no room at all (n ≤ 2) ĝ is the last value. A linear series gives
    /// ĝ = the last value exactly, a flat one gives the flat level.
    /// </remarks>
    internal static double Extrapolate(ReadOnlySpan<double> window, int lookahead)
    {
        var last = window.Length - 1;
        var m = Math.Min(lookahead, window.Length - 2);
        if (m <= 0)
        {
            return window[last];
        }

        // y_i = window[last − m − 1 + i]: y_1 = window[last − m], y_m = window[last − 1].
        var yM = window[last - 1];
        var g = window[last - m];
        for (var i = 0; i < m; i++)
        {
            g += (yM - window[last - m - 1 + i]) / (m - i);
        }

        return g;
    }

    /// <summary>Rescales by a power of two when max|x| is extreme (before extrapolating, so ĝ cannot overflow).</summary>
    private static void ScaleIntoRange(Span<double> values)
    {
        var maxAbs = 0.0;
        for (var i = 0; i < values.Length; i++)
        {
            maxAbs = Math.Max(maxAbs, Math.Abs(values[i]));
        }

        if (maxAbs > UpperScale || (maxAbs > 0 && maxAbs < LowerScale))
        {
            var factor = Math.ScaleB(1.0, -Math.ILogB(maxAbs));
            for (var i = 0; i < values.Length; i++)
            {
                values[i] *= factor;
            }
        }
    }

    private sealed class Workspace(int length)
    {
        public DftPlan Plan { get; } = new(length);

        public double[] Re { get; } = new double[length];

        public double[] Im { get; } = new double[length];

        public double[] LogAmplitude { get; } = new double[length];
    }
}
