namespace AnomalyZT.Grains.Detectors.SpectralResidual;

/// <summary>Standard normal quantile Φ⁻¹ and upper tail, accurate to about 1e-15 relative.</summary>
/// <remarks>
/// Φ⁻¹ starts from Acklam's rational approximation (relative error below 1.15e-9) and takes one Halley step
/// against an accurate erfc. erfc comes from the all-positive series erf(x) = (2/√π)·e^(−x²)·Σ 2^k x^(2k+1)/(2k+1)!!
/// below 2.5 (no cancellation inside the sum) and from the Laplace continued fraction above it.
/// </remarks>
internal static class NormalQuantile
{
    private const double LowRegion = 0.02425;
    private const double SqrtPi = 1.7724538509055160273;
    private const double Sqrt2 = 1.4142135623730950488;
    private const double Sqrt2Pi = 2.5066282746310005024;

    private static readonly double[] A = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00];
    private static readonly double[] B = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01];
    private static readonly double[] C = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00];
    private static readonly double[] D = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00];

    /// <summary>Φ⁻¹(p) for p in (0, 1); ±∞ at 0 and 1, NaN outside.</summary>
    public static double Inverse(double p)
    {
        if (!(p >= 0 && p <= 1))
        {
            return double.NaN;
        }

        if (p == 0)
        {
            return double.NegativeInfinity;
        }

        if (p == 1)
        {
            return double.PositiveInfinity;
        }

        var x = Acklam(p);

        // Halley: e = Φ(x) − p, u = e·√(2π)·exp(x²/2), x ← x − u/(1 + x·u/2). Φ(x) via the tail that does not cancel.
        var e = x < 0 ? 0.5 * Erfc(-x / Sqrt2) - p : (1 - p) - 0.5 * Erfc(x / Sqrt2);
        var u = e * Sqrt2Pi * Math.Exp(x * x / 2);
        return x - u / (1 + x * u / 2);
    }

    /// <summary>Acklam's approximation alone (for tests of the refinement).</summary>
    internal static double Acklam(double p)
    {
        if (p < LowRegion)
        {
            var q = Math.Sqrt(-2 * Math.Log(p));
            return Tail(q);
        }

        if (p > 1 - LowRegion)
        {
            var q = Math.Sqrt(-2 * Math.Log(1 - p));
            return -Tail(q);
        }

        var r = p - 0.5;
        var s = r * r;
        return (((((A[0] * s + A[1]) * s + A[2]) * s + A[3]) * s + A[4]) * s + A[5]) * r
            / (((((B[0] * s + B[1]) * s + B[2]) * s + B[3]) * s + B[4]) * s + 1);
    }

    /// <summary>Complementary error function for any real x.</summary>
    internal static double Erfc(double x)
    {
        if (x < 0)
        {
            return 2 - Erfc(-x);
        }

        if (x < 2.5)
        {
            // erf(x) = (2/√π)·e^(−x²)·Σ_k 2^k·x^(2k+1)/(1·3·…·(2k+1)); terms are positive and shrink quickly.
            var term = x;
            var sum = x;
            var x2 = x * x;
            for (var k = 1; k < 200 && term > 1e-17 * sum; k++)
            {
                term *= 2 * x2 / (2 * k + 1);
                sum += term;
            }

            return 1 - 2 / SqrtPi * Math.Exp(-x2) * sum;
        }

        // erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …))))), by modified Lentz.
        const double tiny = 1e-300;
        var f = x;
        var c = x;
        var d = 0.0;
        for (var k = 1; k < 500; k++)
        {
            var a = k / 2.0;
            d = x + a * d;
            d = Math.Abs(d) < tiny ? tiny : d;
            c = x + a / c;
            c = Math.Abs(c) < tiny ? tiny : c;
            d = 1 / d;
            var delta = c * d;
            f *= delta;
            if (Math.Abs(delta - 1) < 1e-16)
            {
                break;
            }
        }

        return Math.Exp(-x * x) / SqrtPi / f;
    }

    private static double Tail(double q) =>
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
        / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1);
}
