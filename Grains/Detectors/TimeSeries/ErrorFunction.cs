namespace AnomalyZT.Grains.Detectors.TimeSeries;

/// <summary>How an SSA detector turns an observation x and its forecast ŷ into a raw score (detectors-spec §3).</summary>
public enum ErrorFunction : byte
{
    /// <summary>x − ŷ (the default).</summary>
    SignedDifference = 0,

    /// <summary>|x − ŷ|.</summary>
    AbsoluteDifference = 1,

    /// <summary>(x − ŷ)/ŷ, or 0 when ŷ = 0.</summary>
    SignedProportion = 2,

    /// <summary>|(x − ŷ)/ŷ|, or 0 when ŷ = 0.</summary>
    AbsoluteProportion = 3,

    /// <summary>(x − ŷ)².</summary>
    SquaredDifference = 4,
}

/// <summary>Evaluation of <see cref="ErrorFunction"/>.</summary>
public static class ErrorFunctions
{
    /// <summary>The raw score of <paramref name="actual"/> against <paramref name="predicted"/>.</summary>
    public static double Apply(this ErrorFunction function, double actual, double predicted)
    {
        var diff = actual - predicted;
        return function switch
        {
            ErrorFunction.AbsoluteDifference => Math.Abs(diff),
            ErrorFunction.SignedProportion => predicted == 0 ? 0 : diff / predicted,
            ErrorFunction.AbsoluteProportion => predicted == 0 ? 0 : Math.Abs(diff / predicted),
            ErrorFunction.SquaredDifference => diff * diff,
            _ => diff,
        };
    }

    /// <summary>Throws unless <paramref name="function"/> is a defined value.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Undefined value.</exception>
    internal static void Validate(ErrorFunction function)
    {
        if (function > ErrorFunction.SquaredDifference)
        {
            throw new ArgumentOutOfRangeException(nameof(function), function, $"errorFunction is {(int)function}; it must be one of SignedDifference, AbsoluteDifference, SignedProportion, AbsoluteProportion, SquaredDifference");
        }
    }
}
