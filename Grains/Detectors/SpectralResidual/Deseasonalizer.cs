namespace AnomalyZT.Grains.Detectors.SpectralResidual;

/// <summary>Removes a known seasonal period from a batch before SR (spec 4b step 2).</summary>
internal static class Deseasonalizer
{
    /// <summary>Writes the deseasonalised series y into <paramref name="residual"/>.</summary>
    /// <remarks>Mean/Median: y = x − the per-phase (i mod period) mean or median. Stl: y = the STL residual;
    /// when STL cannot run (period &lt; 2, fewer than two full periods, or a degenerate fit) it falls back to
    /// Median, as the spec prescribes.</remarks>
    public static void Residual(ReadOnlySpan<double> x, int period, SrDeseasonalityMode mode, Span<double> residual)
    {
        if (mode == SrDeseasonalityMode.Stl && Stl.TryResidual(x, period, residual))
        {
            return;
        }

        var n = x.Length;
        var phases = Math.Min(period, n);
        var buffer = new double[(n + phases - 1) / phases];
        for (var phase = 0; phase < phases; phase++)
        {
            var count = 0;
            for (var i = phase; i < n; i += period)
            {
                buffer[count++] = x[i];
            }

            var values = buffer.AsSpan(0, count);
            var level = mode == SrDeseasonalityMode.Mean ? Mean(values) : Median(values);
            for (var i = phase; i < n; i += period)
            {
                residual[i] = x[i] - level;
            }
        }
    }

    private static double Mean(ReadOnlySpan<double> values)
    {
        var sum = 0.0;
        foreach (var v in values)
        {
            sum += v;
        }

        return sum / values.Length;
    }

    private static double Median(Span<double> values)
    {
        values.Sort();
        var mid = values.Length / 2;
        return values.Length % 2 == 1 ? values[mid] : 0.5 * (values[mid - 1] + values[mid]);
    }
}
