namespace AnomalyZT.Grains.Detectors.SpectralResidual;

/// <content>Expected values, boundary units and margins (spec 4b, ExpectedValue / BoundaryUnit / Margin).</content>
public sealed partial class SrBatchDetector
{
    private const double ReplaceScore = 0.35;
    private const int MinFitPoints = 4;
    private const int MaxTrendWindow = 512;
    private const double FlatTrend = 1e-8;
    private const double FlatUnit = 0.3;
    private const double ExpectedClampSensitivity = 93;

    /// <summary>
    /// Expected values before the sign clamp. Period 0: points scoring above 0.35 are replaced by a least-squares
    /// line through unflagged neighbours, then bins 3N/8 &lt; k &lt; 5N/8 of the DFT are zeroed and the real part of
    /// the inverse is kept. Period &gt; 0: x − y.
    /// </summary>
    private double[] ExpectedValues(ReadOnlySpan<double> x, ReadOnlySpan<double> y, ReadOnlySpan<double> scores)
    {
        var n = x.Length;
        var re = new double[n];
        if (_options.Period > 0)
        {
            for (var i = 0; i < n; i++)
            {
                re[i] = x[i] - y[i];
            }

            return re;
        }

        var flagged = new bool[n];
        for (var i = 0; i < n; i++)
        {
            flagged[i] = scores[i] > ReplaceScore;
        }

        for (var i = 0; i < n; i++)
        {
            re[i] = flagged[i] ? LineThroughNeighbours(x, flagged, i) : x[i];
        }

        var im = new double[n];
        var plan = new DftPlan(n);
        Dft.Forward(plan, re, im);
        for (var k = 0; k < n; k++)
        {
            if (8L * k > 3L * n && 8L * k < 5L * n)
            {
                re[k] = 0;
                im[k] = 0;
            }
        }

        Dft.Inverse(plan, re, im);
        return re;
    }

    /// <summary>Least-squares line through the unflagged points of [i−r, i+r] (i excluded), evaluated at i;
    /// r starts at 1 and grows by 2 until the window holds at least 4 points or covers the batch.</summary>
    internal static double LineThroughNeighbours(ReadOnlySpan<double> x, ReadOnlySpan<bool> flagged, int i)
    {
        var n = x.Length;
        for (var radius = 1; ; radius += 2)
        {
            var lo = Math.Max(0, i - radius);
            var hi = Math.Min(n - 1, i + radius);
            int count = 0;
            double sumJ = 0, sumV = 0;
            for (var j = lo; j <= hi; j++)
            {
                if (j != i && !flagged[j])
                {
                    count++;
                    sumJ += j;
                    sumV += x[j];
                }
            }

            if (count < MinFitPoints && (lo > 0 || hi < n - 1))
            {
                continue;
            }

            if (count == 0)
            {
                return x[i];
            }

            double meanJ = sumJ / count, meanV = sumV / count, sjj = 0, sjv = 0;
            for (var j = lo; j <= hi; j++)
            {
                if (j != i && !flagged[j])
                {
                    sjj += (j - meanJ) * (j - meanJ);
                    sjv += (j - meanJ) * (x[j] - meanV);
                }
            }

            return sjj > 0 ? meanV + sjv / sjj * (i - meanJ) : meanV;
        }
    }

    /// <summary>unit_i = 0.5·mean(|trend| over non-anomalies) + 0.5·|trend_i|, trend being a centred running
    /// median of x of width 2⌊w/2⌋+1, w = min(N/3, 512), truncated at both ends of the batch; 0.3 everywhere when
    /// every non-anomalous |trend| is below 1e-8.</summary>
    internal static double[] BoundaryUnits(ReadOnlySpan<double> x, ReadOnlySpan<bool> anomalies)
    {
        var n = x.Length;
        var trend = RunningMedian(x, Math.Min(n / 3, MaxTrendWindow) / 2);
        double sum = 0;
        int count = 0;
        var flat = true;
        for (var i = 0; i < n; i++)
        {
            if (!anomalies[i])
            {
                var level = Math.Abs(trend[i]);
                sum += level;
                count++;
                flat &= level < FlatTrend;
            }
        }

        var average = count == 0 ? 0 : sum / count;
        var units = new double[n];
        for (var i = 0; i < n; i++)
        {
            units[i] = flat ? FlatUnit : 0.5 * average + 0.5 * Math.Abs(trend[i]);
        }

        return units;
    }

    /// <summary>Median of x over [i−half, i+half] clipped to the row, for every i (sorted window, O(N·half)).</summary>
    internal static double[] RunningMedian(ReadOnlySpan<double> x, int half)
    {
        var n = x.Length;
        var medians = new double[n];
        var sorted = new double[Math.Min(n, 2 * half + 1)];
        var count = 0;
        for (var j = 0; j <= Math.Min(half, n - 1); j++)
        {
            Insert(sorted, ref count, x[j]);
        }

        for (var i = 0; i < n; i++)
        {
            medians[i] = count % 2 == 1 ? sorted[count / 2] : 0.5 * (sorted[count / 2 - 1] + sorted[count / 2]);
            // Remove before inserting, so the window never holds more than 2·half+1 values.
            if (i - half >= 0)
            {
                Remove(sorted, ref count, x[i - half]);
            }

            if (i + half + 1 < n)
            {
                Insert(sorted, ref count, x[i + half + 1]);
            }
        }

        return medians;
    }

    private static void Insert(double[] sorted, ref int count, double value)
    {
        var at = sorted.AsSpan(0, count).BinarySearch(value);
        at = at < 0 ? ~at : at;
        Array.Copy(sorted, at, sorted, at + 1, count - at);
        sorted[at] = value;
        count++;
    }

    private static void Remove(double[] sorted, ref int count, double value)
    {
        var at = sorted.AsSpan(0, count).BinarySearch(value);
        Array.Copy(sorted, at + 1, sorted, at, count - at - 1);
        count--;
    }

    private void Margins(ReadOnlySpan<double> x, ReadOnlySpan<double> y, ReadOnlySpan<double> mag, ReadOnlySpan<double> scores, ReadOnlySpan<bool> srAnomalies, in BatchStats stats, Span<SrBatchPoint> output)
    {
        var n = x.Length;
        var expected = ExpectedValues(x, y, scores);
        var units = BoundaryUnits(x, srAnomalies);
        var factor = SrMarginTable.Factor(_options.Sensitivity);
        var upper = new double[n];
        var lower = new double[n];
        var anomalies = new bool[n];
        for (var i = 0; i < n; i++)
        {
            upper[i] = expected[i] + units[i] * factor;
            lower[i] = expected[i] - units[i] * factor;
            anomalies[i] = srAnomalies[i] && (x[i] > upper[i] || x[i] < lower[i]);
        }

        if (_options.Period > 0)
        {
            FillOutOfBoundRuns(x, upper, lower, anomalies);
        }

        var clampFactor = SrMarginTable.Factor(ExpectedClampSensitivity);
        for (var i = 0; i < n; i++)
        {
            var unit = units[i];
            var value = SignClamp(expected[i], stats);
            if (anomalies[i])
            {
                var score = SrMarginTable.Score(Math.Abs(expected[i] - x[i]) / unit);
                output[i] = new SrBatchPoint(true, score, mag[i], value, unit, upper[i], lower[i]);
                continue;
            }

            value = Math.Clamp(value, x[i] - unit * clampFactor, x[i] + unit * clampFactor);
            var margin = unit * factor;
            output[i] = new SrBatchPoint(false, 0, mag[i], value, unit, value + margin, value - margin);
        }
    }

    /// <summary>Within each contiguous run of out-of-bound points, marks everything between the run's first and
    /// last anomaly as anomalous.</summary>
    internal static void FillOutOfBoundRuns(ReadOnlySpan<double> x, ReadOnlySpan<double> upper, ReadOnlySpan<double> lower, Span<bool> anomalies)
    {
        var n = x.Length;
        var i = 0;
        while (i < n)
        {
            if (!(x[i] > upper[i] || x[i] < lower[i]))
            {
                i++;
                continue;
            }

            int first = -1, last = -1, j = i;
            for (; j < n && (x[j] > upper[j] || x[j] < lower[j]); j++)
            {
                if (anomalies[j])
                {
                    first = first < 0 ? j : first;
                    last = j;
                }
            }

            for (var k = first; first >= 0 && k <= last; k++)
            {
                anomalies[k] = true;
            }

            i = j;
        }
    }
}
