namespace AnomalyZT.Grains.Detectors.SpectralResidual;

/// <summary>
/// A small STL (seasonal-trend decomposition by LOESS, Cleveland et al. 1990): the inner loop only, two passes,
/// no robustness weights, local-linear LOESS evaluated at every point.
/// </summary>
/// <remarks>
/// Spans: seasonal n_s = 7, low-pass n_l = the smallest odd number ≥ period, trend n_t = the smallest odd number
/// ≥ 1.5·period / (1 − 1.5/n_s). One pass: detrend; smooth each cycle-subseries (extended by one point at
/// each end); low-pass the result (moving averages of period, period, 3, then LOESS n_l); season = smoothed
/// cycle − low-pass; trend = LOESS n_t of x − season. Cost O(N·(n_s + n_l + n_t)) per pass.
/// </remarks>
internal static class Stl
{
    private const int SeasonalSpan = 7;
    private const int InnerPasses = 2;

    /// <summary>Writes x − season − trend into <paramref name="residual"/>; false when STL cannot run
    /// (period &lt; 2, fewer than two periods of data, or a degenerate fit), leaving the contents undefined.</summary>
    public static bool TryResidual(ReadOnlySpan<double> x, int period, Span<double> residual)
    {
        var n = x.Length;
        if (period < 2 || n < 2 * period)
        {
            return false;
        }

        var lowPassSpan = NextOdd(period);
        var trendSpan = NextOdd((int)Math.Ceiling(1.5 * period / (1 - 1.5 / SeasonalSpan)));
        var trend = new double[n];
        var season = new double[n];
        var work = new double[n];
        var cycle = new double[n + 2 * period];
        var subseries = new double[n / period + 1];
        for (var pass = 0; pass < InnerPasses; pass++)
        {
            for (var i = 0; i < n; i++)
            {
                work[i] = x[i] - trend[i];
            }

            if (!TrySmoothCycles(work, period, subseries, cycle))
            {
                return false;
            }

            var smoothed = MovingAverage(MovingAverage(MovingAverage(cycle, period), period), 3);
            for (var i = 0; i < n; i++)
            {
                if (!TryLoess(smoothed, lowPassSpan, i, out var low))
                {
                    return false;
                }

                season[i] = cycle[period + i] - low;
            }

            for (var i = 0; i < n; i++)
            {
                work[i] = x[i] - season[i];
            }

            for (var i = 0; i < n; i++)
            {
                if (!TryLoess(work, trendSpan, i, out trend[i]))
                {
                    return false;
                }
            }
        }

        for (var i = 0; i < n; i++)
        {
            residual[i] = x[i] - season[i] - trend[i];
            if (!double.IsFinite(residual[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>LOESS-smooths each phase's subseries at positions −1..len (one extra point each side), writing
    /// position p of phase j to cycle[(p + 1)·period + j].</summary>
    private static bool TrySmoothCycles(ReadOnlySpan<double> work, int period, double[] subseries, double[] cycle)
    {
        var n = work.Length;
        for (var phase = 0; phase < period; phase++)
        {
            var length = 0;
            for (var i = phase; i < n; i += period)
            {
                subseries[length++] = work[i];
            }

            var values = subseries.AsSpan(0, length);
            for (var position = -1; position <= length; position++)
            {
                if (!TryLoess(values, SeasonalSpan, position, out var value))
                {
                    return false;
                }

                cycle[(position + 1) * period + phase] = value;
            }
        }

        return true;
    }

    /// <summary>Local-linear LOESS with tricube weights over the <paramref name="span"/> points nearest to
    /// <paramref name="at"/>, evaluated at <paramref name="at"/> (which may lie just outside the row).</summary>
    internal static bool TryLoess(ReadOnlySpan<double> y, int span, int at, out double value)
    {
        value = 0;
        var length = y.Length;
        int left = 0, right = length - 1;
        if (span < length)
        {
            left = Math.Clamp(at - span / 2, 0, length - span);
            right = left + span - 1;
        }

        double h = Math.Max(at - left, right - at);
        if (span > length)
        {
            h += (span - length) / 2;
        }

        double sumW = 0, sumWj = 0;
        for (var j = left; j <= right; j++)
        {
            var w = Tricube(Math.Abs(j - at), h);
            sumW += w;
            sumWj += w * j;
        }

        if (!(sumW > 0))
        {
            return false;
        }

        var centre = sumWj / sumW;
        var spread = 0.0;
        for (var j = left; j <= right; j++)
        {
            spread += Tricube(Math.Abs(j - at), h) / sumW * (j - centre) * (j - centre);
        }

        // Fit a slope only when the weighted positions are spread out (Cleveland's guard against 0/0).
        var slope = Math.Sqrt(spread) > 0.001 * (length - 1) ? (at - centre) / spread : 0;
        for (var j = left; j <= right; j++)
        {
            value += Tricube(Math.Abs(j - at), h) / sumW * (1 + slope * (j - centre)) * y[j];
        }

        return double.IsFinite(value);
    }

    private static double Tricube(double distance, double h)
    {
        if (h <= 0)
        {
            return distance == 0 ? 1 : 0;
        }

        var u = distance / h;
        if (u <= 0.001)
        {
            return 1;
        }

        if (u >= 0.999)
        {
            return 0;
        }

        var c = 1 - u * u * u;
        return c * c * c;
    }

    private static double[] MovingAverage(ReadOnlySpan<double> values, int width)
    {
        var result = new double[values.Length - width + 1];
        var sum = 0.0;
        for (var i = 0; i < width; i++)
        {
            sum += values[i];
        }

        result[0] = sum / width;
        for (var i = 1; i < result.Length; i++)
        {
            sum += values[i + width - 1] - values[i - 1];
            result[i] = sum / width;
        }

        return result;
    }

    private static int NextOdd(int value) => value % 2 == 0 ? value + 1 : value;
}
