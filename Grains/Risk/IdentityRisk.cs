using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Grains.Risk;

/// <summary>How findings become risk (section <c>response.risk</c> of <c>detectors.yaml</c>).</summary>
public sealed class RiskSettings
{
    /// <summary>Risk halves every this many minutes without new findings.</summary>
    public double HalfLifeMinutes { get; set; } = 120;

    /// <summary>Points a finding of each severity adds, indexed by <see cref="Severity"/> (info, low, medium, high, critical).</summary>
    public double[] Weights { get; set; } = [0, 5, 15, 35, 60];

    /// <summary>Risk never exceeds this.</summary>
    public double Max { get; set; } = 100;

    /// <summary>Contributions remembered per identity (strongest kept); bounds memory.</summary>
    public int MaxContributions { get; set; } = 16;

    /// <summary>A stable text of every setting, for config versioning.</summary>
    public string Fingerprint() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"hl={HalfLifeMinutes};w={string.Join(',', Weights)};max={Max};k={MaxContributions}");
}

/// <summary>One finding's share of an identity's risk.</summary>
/// <param name="FindingId">The finding.</param>
/// <param name="Detector">Its detector.</param>
/// <param name="Feature">Its feature.</param>
/// <param name="Severity">Its severity.</param>
/// <param name="AtMs">Event time the contribution counts from: the end of the finding's bucket, Unix ms.</param>
/// <param name="Points">Points at <paramref name="AtMs"/>.</param>
/// <param name="Examples">The finding's examples (new resources and the like), for sensitivity rules.</param>
public sealed record RiskContribution(string FindingId, string Detector, string Feature, Severity Severity, long AtMs, double Points, string[] Examples);

/// <summary>A contribution as it stands at some time: its decayed points.</summary>
/// <param name="Contribution">The contribution.</param>
/// <param name="Current">Its points now, after decay.</param>
public readonly record struct RiskShare(RiskContribution Contribution, double Current);

/// <summary>The risk of one identity: severity-weighted findings decaying exponentially in event time, bounded and
/// explainable (each contribution's share is known).</summary>
/// <remarks>Time is event time (the end of each finding's bucket), so a replay gives the same risk as the live run.
/// Not thread-safe: one responder owns it.</remarks>
public sealed class IdentityRisk
{
    private readonly List<RiskContribution> _contributions = [];

    /// <summary>A risk with no findings.</summary>
    public IdentityRisk(string identityId)
    {
        ArgumentException.ThrowIfNullOrEmpty(identityId);
        IdentityId = identityId;
    }

    /// <summary>The identity.</summary>
    public string IdentityId { get; }

    /// <summary>Newest contribution time seen, Unix ms (0 before any).</summary>
    public long AsOfMs { get; private set; }

    /// <summary>Remembered contributions, in the order they arrived.</summary>
    public IReadOnlyList<RiskContribution> Contributions => _contributions;

    /// <summary>Adds a finding. Returns false (and changes nothing) when it was already counted or weighs nothing.</summary>
    public bool Add(Finding finding, RiskSettings settings)
    {
        ArgumentNullException.ThrowIfNull(finding);
        ArgumentNullException.ThrowIfNull(settings);
        var index = (int)finding.Severity;
        var points = index < settings.Weights.Length ? settings.Weights[index] : settings.Weights[^1];
        if (points <= 0 || _contributions.Exists(c => c.FindingId == finding.Id))
        {
            return false;
        }

        var at = finding.BucketStartMs + (finding.BucketSeconds * 1000L);
        _contributions.Add(new RiskContribution(finding.Id, finding.Detector, finding.Feature, finding.Severity, at, points, finding.Examples));
        AsOfMs = Math.Max(AsOfMs, at);
        Trim(settings);
        return true;
    }

    /// <summary>Restores a contribution read back from the store.</summary>
    public void Restore(RiskContribution contribution)
    {
        ArgumentNullException.ThrowIfNull(contribution);
        _contributions.Add(contribution);
        AsOfMs = Math.Max(AsOfMs, contribution.AtMs);
    }

    /// <summary>The risk at <paramref name="atMs"/> (event time), from 0 to <see cref="RiskSettings.Max"/>.</summary>
    public double ValueAt(long atMs, RiskSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var sum = 0.0;
        foreach (var c in _contributions)
        {
            sum += Decayed(c, atMs, settings);
        }

        return Math.Min(sum, settings.Max);
    }

    /// <summary>Each contribution's decayed share at <paramref name="atMs"/>, strongest first.</summary>
    public RiskShare[] Explain(long atMs, RiskSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var shares = new RiskShare[_contributions.Count];
        for (var i = 0; i < shares.Length; i++)
        {
            shares[i] = new RiskShare(_contributions[i], Decayed(_contributions[i], atMs, settings));
        }

        Array.Sort(shares, static (a, b) => b.Current.CompareTo(a.Current) is var c && c != 0 ? c : string.CompareOrdinal(a.Contribution.FindingId, b.Contribution.FindingId));
        return shares;
    }

    /// <summary>Points of <paramref name="c"/> at <paramref name="atMs"/>: halved every half-life after it counted;
    /// a contribution from the future (a late finding for an earlier bucket is not one) counts in full.</summary>
    public static double Decayed(RiskContribution c, long atMs, RiskSettings settings)
    {
        ArgumentNullException.ThrowIfNull(c);
        ArgumentNullException.ThrowIfNull(settings);
        var ageMinutes = Math.Max(0, atMs - c.AtMs) / 60_000.0;
        return c.Points * Math.Pow(0.5, ageMinutes / settings.HalfLifeMinutes);
    }

    // Keeps the strongest contributions (at the newest time) and drops ones that decayed to nothing.
    private void Trim(RiskSettings settings)
    {
        _contributions.RemoveAll(c => Decayed(c, AsOfMs, settings) < 0.01);
        if (_contributions.Count <= settings.MaxContributions)
        {
            return;
        }

        var keep = Explain(AsOfMs, settings).Take(settings.MaxContributions).Select(s => s.Contribution).ToHashSet();
        _contributions.RemoveAll(c => !keep.Contains(c));
    }
}
