namespace AnomalyZT.Grains.Detectors.SpectralResidual;

/// <summary>
/// The margin factor F(s) of batch SR: margin = unit·F(sensitivity). Defined at integer s by the spec's piecewise
/// formulas and list, linearly interpolated in between. F falls strictly from F(0) = 532 to F(100) = 0.
/// </summary>
internal static class SrMarginTable
{
    private static readonly double[] Table = Build();

    /// <summary>F(s) for s in [0, 100] (clamped), interpolated between integers.</summary>
    public static double Factor(double sensitivity)
    {
        var s = Math.Clamp(sensitivity, 0, 100);
        var i = (int)Math.Floor(s);
        if (i >= 100)
        {
            return Table[100];
        }

        return Table[i] + (s - i) * (Table[i + 1] - Table[i]);
    }

    /// <summary>
    /// Anomaly score for a deviation of <paramref name="units"/> boundary units: the smallest s with
    /// F(100 − s) ≥ units, interpolated between table entries, divided by 100. 0 for no deviation, 1 beyond F(0).
    /// </summary>
    public static double Score(double units)
    {
        if (!(units > 0))
        {
            return 0;
        }

        for (var s = 1; s <= 100; s++)
        {
            var upper = Table[100 - s];
            if (upper >= units)
            {
                var below = Table[101 - s];
                return (s - 1 + (units - below) / (upper - below)) / 100;
            }
        }

        return 1;
    }

    private static double[] Build()
    {
        var table = new double[101];
        for (var s = 0; s <= 92; s++)
        {
            table[s] = s switch
            {
                < 25 => 0.8 * (s - 25) * (s - 25) + 32,
                < 45 => 61.25 - 1.25 * s,
                < 55 => 23 - 0.4 * s,
                < 65 => 3.2 - 0.04 * s,
                < 75 => 2.55 - 0.03 * s,
                < 85 => 1.425 - 0.015 * s,
                _ => 1.15455 - 0.011818 * s,
            };
        }

        ReadOnlySpan<double> tail = [0.043636, 0.012, 0.008, 0.006075, 0.00415, 0.002225, 0.0003, 0];
        tail.CopyTo(table.AsSpan(93));
        return table;
    }
}
