using System.Globalization;

namespace AnomalyZT.Silo.Nab;

/// <summary>
/// A NAB application profile: the weights of the cost matrix the scorer applies. The three published
/// profiles are NAB's <c>config/profiles.json</c> (NAB v1.0 and later; the 2015 whitepaper, table 1).
/// NAB's files also carry <c>tnWeight = 1.0</c>; the published scoring never reads it (a true negative
/// adds nothing), so it is not modelled here.
/// </summary>
public sealed record NabProfile
{
    /// <summary>NAB "standard": A_TP 1.0, A_FP 0.11, A_FN 1.0.</summary>
    public static NabProfile Standard { get; } = new("standard", 1.0, 0.11, 1.0);

    /// <summary>NAB "reward_low_FP_rate": A_TP 1.0, A_FP 0.22, A_FN 1.0.</summary>
    public static NabProfile RewardLowFalsePositives { get; } = new("reward_low_FP_rate", 1.0, 0.22, 1.0);

    /// <summary>NAB "reward_low_FN_rate": A_TP 1.0, A_FP 0.11, A_FN 2.0.</summary>
    public static NabProfile RewardLowFalseNegatives { get; } = new("reward_low_FN_rate", 1.0, 0.11, 2.0);

    /// <summary>The three published profiles, in NAB's reporting order.</summary>
    public static IReadOnlyList<NabProfile> All { get; } = [Standard, RewardLowFalsePositives, RewardLowFalseNegatives];

    /// <summary>Creates a profile; weights must be finite, A_TP positive, A_FP and A_FN not negative.</summary>
    /// <param name="name">The profile's name, as NAB spells it.</param>
    /// <param name="truePositiveWeight">A_TP: the score of a detection at a window's first row.</param>
    /// <param name="falsePositiveWeight">A_FP: the weight of the (negative) score of a detection outside every window.</param>
    /// <param name="falseNegativeWeight">A_FN: the penalty of a window without a detection.</param>
    public NabProfile(string name, double truePositiveWeight, double falsePositiveWeight, double falseNegativeWeight)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Check(truePositiveWeight, truePositiveWeight > 0, "A_TP", "finite and positive", nameof(truePositiveWeight));
        Check(falsePositiveWeight, falsePositiveWeight >= 0, "A_FP", "finite and not negative", nameof(falsePositiveWeight));
        Check(falseNegativeWeight, falseNegativeWeight >= 0, "A_FN", "finite and not negative", nameof(falseNegativeWeight));

        Name = name;
        TruePositiveWeight = truePositiveWeight;
        FalsePositiveWeight = falsePositiveWeight;
        FalseNegativeWeight = falseNegativeWeight;
    }

    /// <summary>The profile's name, as NAB spells it.</summary>
    public string Name { get; }

    /// <summary>A_TP.</summary>
    public double TruePositiveWeight { get; }

    /// <summary>A_FP.</summary>
    public double FalsePositiveWeight { get; }

    /// <summary>A_FN.</summary>
    public double FalseNegativeWeight { get; }

    private static void Check(double value, bool inRange, string what, string rule, string parameter)
    {
        if (!double.IsFinite(value) || !inRange)
        {
            var shown = value.ToString(CultureInfo.InvariantCulture);
            throw new ArgumentOutOfRangeException(parameter, value, what + " is " + shown + "; " + what + " must be " + rule);
        }
    }
}
