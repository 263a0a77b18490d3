namespace AnomalyZT.Grains.Detectors.SpectralResidual;

/// <summary>Finds the dominant seasonal period of a series (ML.NET's <c>DetectSeasonality</c>), or −1.</summary>
/// <remarks>
/// Periodogram of the raw (not detrended) values; the strongest frequency and, if it is strong enough, a second
/// local maximum at a different period are turned into lags by searching the circular autocorrelation
/// r = Re IDFT(|X|²) around n/F; the lag wins if its normalised autocorrelation passes the correlogram
/// randomness test r[τ]/r[0] ≥ Φ⁻¹(randomnessThreshold)/√n. Because nothing is detrended, a series with a
/// large mean has r[τ]/r[0] near 1 at every lag: the test then only rejects white noise around zero.
/// Cost O(n log n); allocates O(n).
/// </remarks>
public static class SeasonalityDetector
{
    /// <summary>Longest period reported.</summary>
    public const int MaxPeriod = 400;

    /// <summary>Largest accepted |value| (its square must not overflow).</summary>
    public const double MaxMagnitude = 1e100;

    private const double MedianFactor = 6;
    private const double BestPowerFactor = 10;
    private const double PreferSecond = 1.05;
    private const double MinAutocorrelation = 1e-10;
    private const int MinCycles = 8;
    private const int MinLength = 4;

    /// <summary>Detects the period.</summary>
    /// <param name="values">The series; every value finite and within ±<see cref="MaxMagnitude"/>.</param>
    /// <param name="seasonalityWindowSize">Use only the first this-many values; −1 for all of them.</param>
    /// <param name="randomnessThreshold">Confidence of the randomness test, in (0, 1).</param>
    /// <returns>The period in points (2..400), or −1 when none is found.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is outside its range.</exception>
    /// <exception cref="ArgumentException">A value is not finite or too large.</exception>
    public static int Detect(ReadOnlySpan<double> values, int seasonalityWindowSize = -1, double randomnessThreshold = 0.95)
    {
        if (seasonalityWindowSize != -1 && seasonalityWindowSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(seasonalityWindowSize), seasonalityWindowSize,
                $"seasonalityWindowSize is {seasonalityWindowSize}; seasonalityWindowSize must be -1 (all values) or positive.");
        }

        if (!(randomnessThreshold > 0 && randomnessThreshold < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(randomnessThreshold), randomnessThreshold,
                $"randomnessThreshold is {randomnessThreshold}; randomnessThreshold must be in (0, 1), both ends excluded.");
        }

        var n = seasonalityWindowSize > 0 ? Math.Min(seasonalityWindowSize, values.Length) : values.Length;
        for (var i = 0; i < n; i++)
        {
            if (!(Math.Abs(values[i]) <= MaxMagnitude))
            {
                throw new ArgumentException($"values[{i}] is {values[i]}; every value must be finite and within ±{MaxMagnitude}.", nameof(values));
            }
        }

        if (n < MinLength)
        {
            return -1;
        }

        var plan = new DftPlan(n);
        var re = values[..n].ToArray();
        var im = new double[n];
        Dft.Forward(plan, re, im);
        var power = new double[n];
        for (var k = 0; k < n; k++)
        {
            power[k] = re[k] * re[k] + im[k] * im[k];
        }

        var best = 1;
        for (var k = 2; k <= n / 2; k++)
        {
            best = power[k] > power[best] ? k : best;
        }

        if (!(power[best] > 0))
        {
            return -1;
        }

        var second = SecondFrequency(power, n / best, best);

        // Circular autocorrelation (Wiener–Khinchin): r = Re IDFT(P).
        power.CopyTo(re, 0);
        Array.Clear(im);
        Dft.Inverse(plan, re, im);
        var firstLag = LagFor(re, best);
        var secondLag = second > 0 ? LagFor(re, second) : -1;
        var lag = firstLag < 0 || (secondLag >= 0 && re[secondLag] > PreferSecond * re[firstLag]) ? secondLag : firstLag;
        if (lag < 0)
        {
            return -1;
        }

        var critical = NormalQuantile.Inverse(randomnessThreshold) / Math.Sqrt(n);
        return re[lag] / re[0] < critical || re[lag] < MinAutocorrelation ? -1 : lag;
    }

    /// <summary>
    /// The largest local maximum of P over k = 1..⌊n/2⌋ outside (n/(T+1), n/(T−1)), kept only when
    /// 6·median(P) &lt; E₂ and 10·E₂ &gt; P_best, where E₂ = P at the bin to its right (a deliberate reproduction of
    /// the original's off-by-one) and the median runs over all n bins. A local maximum is strictly above both
    /// neighbours. −1 when there is none.
    /// </summary>
    internal static int SecondFrequency(ReadOnlySpan<double> power, int period, int best)
    {
        var n = power.Length;
        var low = (double)n / (period + 1);
        var high = (double)n / (period - 1);
        var second = -1;
        for (var k = 1; k <= n / 2 && k + 1 < n; k++)
        {
            var isPeak = power[k] > power[k - 1] && power[k] > power[k + 1];
            if (isPeak && !(k > low && k < high) && (second < 0 || power[k] > power[second]))
            {
                second = k;
            }
        }

        if (second < 0)
        {
            return -1;
        }

        var energy = power[second + 1];
        var sorted = power.ToArray();
        Array.Sort(sorted);
        var mid = n / 2;
        var median = n % 2 == 1 ? sorted[mid] : 0.5 * (sorted[mid - 1] + sorted[mid]);
        return MedianFactor * median < energy && BestPowerFactor * energy > power[best] ? second : -1;
    }

    /// <summary>argmax of r over lags [⌊n/(F+1)⌋, ⌊n/(F−1)⌋]; −1 when F ≤ 1 or the lag is ≤ 1, above
    /// <see cref="MaxPeriod"/>, or longer than n/8.</summary>
    internal static int LagFor(ReadOnlySpan<double> autocorrelation, int frequency)
    {
        var n = autocorrelation.Length;
        if (frequency <= 1)
        {
            return -1;
        }

        var from = n / (frequency + 1);
        var to = Math.Min(n / (frequency - 1), n - 1);
        var lag = from;
        for (var t = from + 1; t <= to; t++)
        {
            lag = autocorrelation[t] > autocorrelation[lag] ? t : lag;
        }

        return lag <= 1 || lag > MaxPeriod || n < MinCycles * lag ? -1 : lag;
    }
}
