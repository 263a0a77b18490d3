namespace AnomalyZT.Grains.Detectors.SpectralResidual;

/// <summary>Discrete Fourier transforms of any length, in place, on split real/imaginary rows.</summary>
/// <remarks>
/// Conventions: forward X_k = Σ_j x_j·exp(−2πi·jk/n) (unnormalised); inverse x_j = (1/n)·Σ_k X_k·exp(+2πi·jk/n).
/// The work happens in a <see cref="DftPlan"/> built once per length; with it, a call allocates nothing.
/// </remarks>
public static class Dft
{
    /// <summary>Forward, unnormalised DFT of (<paramref name="real"/>, <paramref name="imaginary"/>), in place.</summary>
    /// <param name="plan">Plan for the row length.</param>
    /// <param name="real">Real parts, exactly <see cref="DftPlan.Length"/> long.</param>
    /// <param name="imaginary">Imaginary parts, exactly <see cref="DftPlan.Length"/> long.</param>
    /// <exception cref="ArgumentException">A row's length differs from the plan's.</exception>
    public static void Forward(DftPlan plan, Span<double> real, Span<double> imaginary)
    {
        ArgumentNullException.ThrowIfNull(plan);
        CheckLengths(plan, real.Length, imaginary.Length);
        plan.Forward(real, imaginary);
    }

    /// <summary>Inverse DFT normalised by 1/n, in place; it undoes <see cref="Forward"/>.</summary>
    /// <param name="plan">Plan for the row length.</param>
    /// <param name="real">Real parts, exactly <see cref="DftPlan.Length"/> long.</param>
    /// <param name="imaginary">Imaginary parts, exactly <see cref="DftPlan.Length"/> long.</param>
    /// <exception cref="ArgumentException">A row's length differs from the plan's.</exception>
    public static void Inverse(DftPlan plan, Span<double> real, Span<double> imaginary)
    {
        ArgumentNullException.ThrowIfNull(plan);
        CheckLengths(plan, real.Length, imaginary.Length);
        plan.Inverse(real, imaginary);
    }

    private static void CheckLengths(DftPlan plan, int realLength, int imaginaryLength)
    {
        if (realLength != plan.Length || imaginaryLength != plan.Length)
        {
            throw new ArgumentException(
                $"rows are {realLength} and {imaginaryLength} long; both must be {plan.Length} (the plan's length).");
        }
    }
}
