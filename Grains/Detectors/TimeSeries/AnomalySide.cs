namespace AnomalyZT.Grains.Detectors.TimeSeries;

/// <summary>Which tail of the raw-score distribution counts as anomalous.</summary>
public enum AnomalySide : byte
{
    /// <summary>Unusually large raw scores (upper tail).</summary>
    Positive = 0,

    /// <summary>Unusually small raw scores (lower tail).</summary>
    Negative = 1,

    /// <summary>Either tail: min(p, 1 − p), without doubling (as the reference does).</summary>
    TwoSided = 2,
}

/// <summary>Betting function of a change-point martingale.</summary>
public enum MartingaleType : byte
{
    /// <summary>No martingale: the threshold is infinite, so it never alerts.</summary>
    None = 0,

    /// <summary>Power martingale, u(p) = ln ε + (ε − 1)·ln p.</summary>
    Power = 1,

    /// <summary>Mixture martingale, u(p) = ln ∫₀¹ ε p^(ε−1) dε.</summary>
    Mixture = 2,
}
