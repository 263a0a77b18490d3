namespace AnomalyZT.Tests.Detectors;

/// <summary>Seeded synthetic series for the SSA tests.</summary>
internal static class SsaSeries
{
    /// <summary>amplitude·sin(2πt/period) + N(0, noise²), seeded.</summary>
    public static double[] Sine(int length, int period, double amplitude, double noise, int seed)
    {
        var rng = new Random(seed);
        var x = new double[length];
        for (var t = 0; t < length; t++)
        {
            x[t] = (amplitude * Math.Sin(2 * Math.PI * t / period)) + (noise * Gaussian(rng));
        }

        return x;
    }

    public static double Gaussian(Random rng)
    {
        var u1 = 1 - rng.NextDouble();
        var u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
