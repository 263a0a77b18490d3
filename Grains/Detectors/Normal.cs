namespace AnomalyZT.Grains.Detectors;

/// <summary>Standard normal tail probabilities, accurate in the far tail where anomalies live.</summary>
public static class Normal
{
    /// <summary>P(Z ≥ z) for a standard normal Z.</summary>
    public static double UpperTail(double z)
    {
        if (double.IsNaN(z))
        {
            return double.NaN;
        }

        return z < 0 ? 1 - 0.5 * Erfc(-z / Math.Sqrt(2)) : 0.5 * Erfc(z / Math.Sqrt(2));
    }

    /// <summary>Complementary error function for x ≥ 0 (Chebyshev fit, relative error below 1.2e-7 everywhere).</summary>
    public static double Erfc(double x)
    {
        if (x < 0)
        {
            return 2 - Erfc(-x);
        }

        // Numerical Recipes' erfcc form: exp(-x² + P(t)) with t = 1/(1+x/2); the exponent keeps relative
        // accuracy as erfc underflows, which a plain polynomial in exp(-x²) does not.
        var t = 1.0 / (1.0 + 0.5 * x);
        var poly = -x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
            + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
        return t * Math.Exp(poly);
    }
}
