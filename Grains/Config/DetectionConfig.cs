namespace AnomalyZT.Grains.Config;

/// <summary>Parameters of the robust level detector (median/MAD over a sliding window of closed buckets).</summary>
public sealed class RobustLevelSettings
{
    /// <summary>Closed buckets kept in the baseline window.</summary>
    public int Window { get; set; } = 96;

    /// <summary>Closed buckets the baseline needs before it may alert.</summary>
    public int Warmup { get; set; } = 24;

    /// <summary>Robust z-score (deviation / (1.4826·MAD)) at or above which a bucket is anomalous.</summary>
    public double Threshold { get; set; } = 6.0;

    /// <summary>Smallest scale used in place of a zero MAD, as a fraction of |median|.</summary>
    public double RelativeFloor { get; set; } = 0.1;

    /// <summary>Smallest scale in the feature's own unit (1 request, 1 byte, 1 %).</summary>
    public double AbsoluteFloor { get; set; } = 1.0;

    /// <summary><c>upper</c> flags only rises (exfiltration, bursts); <c>both</c> flags drops too.</summary>
    public string Direction { get; set; } = "upper";

    internal RobustLevelSettings Clone() => (RobustLevelSettings)MemberwiseClone();
}

/// <summary>Parameters of the EWMA baseline.</summary>
public sealed class EwmaSettings
{
    /// <summary>Span in buckets (α = 2/(span+1)).</summary>
    public int Span { get; set; } = 48;

    /// <summary>Buckets needed before it may alert.</summary>
    public int Warmup { get; set; } = 24;

    /// <summary>z at or above which a bucket is anomalous.</summary>
    public double Threshold { get; set; } = 6.0;

    /// <summary>Smallest scale as a fraction of |mean|.</summary>
    public double RelativeFloor { get; set; } = 0.1;

    /// <summary>Smallest scale in the feature's unit.</summary>
    public double AbsoluteFloor { get; set; } = 1.0;

    /// <summary><c>upper</c> or <c>both</c>.</summary>
    public string Direction { get; set; } = "upper";

    internal EwmaSettings Clone() => (EwmaSettings)MemberwiseClone();
}

/// <summary>Parameters of the hour-of-week profile.</summary>
public sealed class HourOfWeekSettings
{
    /// <summary>168 (hour of week) or 24 (hour of day).</summary>
    public int Slots { get; set; } = 168;

    /// <summary>Span in buckets per slot (α = 2/(span+1)).</summary>
    public int Span { get; set; } = 8;

    /// <summary>Buckets a slot needs before it may alert.</summary>
    public int Warmup { get; set; } = 6;

    /// <summary>z at or above which a bucket is anomalous.</summary>
    public double Threshold { get; set; } = 6.0;

    /// <summary>Smallest scale as a fraction of |mean|.</summary>
    public double RelativeFloor { get; set; } = 0.2;

    /// <summary>Smallest scale in the feature's unit.</summary>
    public double AbsoluteFloor { get; set; } = 1.0;

    internal HourOfWeekSettings Clone() => (HourOfWeekSettings)MemberwiseClone();
}

/// <summary>Parameters of the IID spike and change-point detectors run on closed buckets.</summary>
public sealed class IidSettings
{
    /// <summary>Spike confidence, percent.</summary>
    public double SpikeConfidence { get; set; } = 99.5;

    /// <summary>Spike p-value history length.</summary>
    public int SpikeHistory { get; set; } = 96;

    /// <summary>Change-point confidence, percent.</summary>
    public double ChangeConfidence { get; set; } = 99;

    /// <summary>Change-point history length.</summary>
    public int ChangeHistory { get; set; } = 24;

    /// <summary><c>power</c> or <c>mixture</c>.</summary>
    public string Martingale { get; set; } = "power";

    /// <summary>ε of the betting function.</summary>
    public double Epsilon { get; set; } = 0.1;

    internal IidSettings Clone() => (IidSettings)MemberwiseClone();
}

/// <summary>Parameters of the SSA detectors run on closed buckets.</summary>
public sealed class SsaSettings
{
    /// <summary>Spike confidence, percent.</summary>
    public double SpikeConfidence { get; set; } = 99.5;

    /// <summary>Spike p-value history.</summary>
    public int SpikeHistory { get; set; } = 96;

    /// <summary>Change-point confidence, percent.</summary>
    public double ChangeConfidence { get; set; } = 99;

    /// <summary>Change-point history.</summary>
    public int ChangeHistory { get; set; } = 24;

    /// <summary>Buckets used to train the model (must exceed twice the seasonality window).</summary>
    public int TrainingWindow { get; set; } = 144;

    /// <summary>Embedding window L (≥ 2; at least twice the longest season, in buckets).</summary>
    public int SeasonalityWindow { get; set; } = 12;

    internal SsaSettings Clone() => (SsaSettings)MemberwiseClone();
}

/// <summary>Parameters of the streaming spectral residual run on closed buckets.</summary>
public sealed class SrSettings
{
    /// <summary>Window of buckets.</summary>
    public int Window { get; set; } = 64;

    /// <summary>Alert threshold on clip(raw, 0, 1).</summary>
    public double Threshold { get; set; } = 0.3;

    internal SrSettings Clone() => (SrSettings)MemberwiseClone();
}

/// <summary>Settings of one feature: its bucket span and its detector's parameters.</summary>
public sealed class FeatureSettings
{
    /// <summary>Event-time bucket span in seconds.</summary>
    public int BucketSeconds { get; set; }

    /// <summary>False turns the feature's detector off (the feature is still tracked).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Robust level detector parameters.</summary>
    public RobustLevelSettings RobustLevel { get; set; } = new();

    /// <summary>Detectors run on the feature, in order; the first that flags a bucket explains the finding.</summary>
    public List<string> Detectors { get; set; } = ["robust_level"];

    /// <summary>EWMA parameters.</summary>
    public EwmaSettings Ewma { get; set; } = new();

    /// <summary>Hour-of-week parameters.</summary>
    public HourOfWeekSettings HourOfWeek { get; set; } = new();

    /// <summary>IID spike/change-point parameters.</summary>
    public IidSettings Iid { get; set; } = new();

    /// <summary>SSA parameters.</summary>
    public SsaSettings Ssa { get; set; } = new();

    /// <summary>Spectral residual parameters.</summary>
    public SrSettings Sr { get; set; } = new();

    /// <summary>A text that is equal for two settings exactly when they build the same bucketing and detectors, so a
    /// reload can keep the state of features whose settings did not change.</summary>
    public string Fingerprint() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"{BucketSeconds}|{string.Join(',', Detectors)}|{RobustLevel.Window},{RobustLevel.Warmup},{RobustLevel.Threshold:R},{RobustLevel.RelativeFloor:R},{RobustLevel.AbsoluteFloor:R},{RobustLevel.Direction}|" +
        $"{Ewma.Span},{Ewma.Warmup},{Ewma.Threshold:R},{Ewma.RelativeFloor:R},{Ewma.AbsoluteFloor:R},{Ewma.Direction}|" +
        $"{HourOfWeek.Slots},{HourOfWeek.Span},{HourOfWeek.Warmup},{HourOfWeek.Threshold:R},{HourOfWeek.RelativeFloor:R},{HourOfWeek.AbsoluteFloor:R}|" +
        $"{Iid.SpikeConfidence:R},{Iid.SpikeHistory},{Iid.ChangeConfidence:R},{Iid.ChangeHistory},{Iid.Martingale},{Iid.Epsilon:R}|" +
        $"{Ssa.SpikeConfidence:R},{Ssa.SpikeHistory},{Ssa.ChangeConfidence:R},{Ssa.ChangeHistory},{Ssa.TrainingWindow},{Ssa.SeasonalityWindow}|{Sr.Window},{Sr.Threshold:R}");

    internal FeatureSettings Clone() => new()
    {
        BucketSeconds = BucketSeconds,
        Enabled = Enabled,
        RobustLevel = RobustLevel.Clone(),
        Detectors = [.. Detectors],
        Ewma = Ewma.Clone(),
        HourOfWeek = HourOfWeek.Clone(),
        Iid = Iid.Clone(),
        Ssa = Ssa.Clone(),
        Sr = Sr.Clone(),
    };
}

/// <summary>First-seen (novelty) settings for resources, source IPs, user agents and destinations.</summary>
public sealed class FirstSeenSettings
{
    /// <summary>Active buckets an entity needs before novelty is reported (a new entity sees only new things).</summary>
    public int WarmupBuckets { get; set; } = 24;

    /// <summary>Values remembered per entity and kind; the least recently seen is forgotten first.</summary>
    public int Capacity { get; set; } = 512;

    /// <summary>False turns novelty findings off.</summary>
    public bool Enabled { get; set; } = true;
}

/// <summary>How the <c>nab</c> command scores a raw series (section <c>nab</c> of <c>detectors.yaml</c>).</summary>
public sealed class NabSettings
{
    /// <summary>novelty, spike-ssa, iid-spike, iid-spike-diff, iid-changepoint, sr, ssa-spike, ensemble or combo.</summary>
    public string Detector { get; set; } = "novelty";

    /// <summary>p-value history of the IID/SSA spike detectors.</summary>
    public int History { get; set; } = 500;

    /// <summary>Spectral-residual window.</summary>
    public int SrWindow { get; set; } = 64;

    /// <summary>Score that counts as a detection for suppression.</summary>
    public double Cut { get; set; } = 0.4118;

    /// <summary>Rows after a detection during which no other is reported (0: off).</summary>
    public int Suppress { get; set; } = 10;

    /// <summary>During suppression, a score this much above the last reported one is reported anyway (a weak false
    /// alarm must not hide the real onset right after it); +∞ turns re-arming off.</summary>
    public double Rearm { get; set; } = 0.3;

    /// <summary>Post-process raw scores with the anomaly likelihood.</summary>
    public bool Likelihood { get; set; }
}

/// <summary>Feature settings for the entities whose <c>kind/id</c> matches <see cref="Match"/>.</summary>
/// <param name="Match">Pattern with <c>*</c> (any run of characters) and <c>?</c> (one character).</param>
/// <param name="Features">Settings of the features the override changes (resolved on top of the defaults).</param>
public sealed record EntityOverride(string Match, IReadOnlyDictionary<string, FeatureSettings> Features);

/// <summary>Wildcard matching without regular expressions (linear, so no pattern can make matching slow).</summary>
public static class Glob
{
    /// <summary>True when <paramref name="text"/> matches <paramref name="pattern"/> (<c>*</c>, <c>?</c>; ordinal).</summary>
    public static bool IsMatch(string pattern, string text)
    {
        int p = 0, t = 0, star = -1, mark = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || pattern[p] == text[t]))
            {
                p++;
                t++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = t;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++mark;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }
}

/// <summary>The detection configuration (<c>detectors.yaml</c>), resolved to concrete settings per feature.</summary>
public sealed class DetectionConfig
{
    /// <summary>Version recorded on every finding: the file's <c>version</c> or a hash of its content.</summary>
    public required string Version { get; init; }

    /// <summary>How far behind the partition's newest event a bucket stays open for late events.</summary>
    public required int AllowedLatenessSeconds { get; init; }

    /// <summary>Novelty settings.</summary>
    public required FirstSeenSettings FirstSeen { get; init; }

    /// <summary>Settings of the NAB benchmark run.</summary>
    public NabSettings Nab { get; init; } = new();

    /// <summary>The response policy: risk, guardrails and rules (dry run with no rules when the file has none).</summary>
    public Policy.ResponsePolicy Response { get; init; } = new();

    /// <summary>Settings per feature name (every feature in <see cref="Features.FeatureCatalog"/> has one).</summary>
    public required IReadOnlyDictionary<string, FeatureSettings> Features { get; init; }

    /// <summary>Hash of the text the configuration was parsed from (to tell whether a file changed since).</summary>
    public string SourceHash { get; init; } = string.Empty;

    /// <summary>Per-entity overrides, first match wins.</summary>
    public IReadOnlyList<EntityOverride> Overrides { get; init; } = [];

    /// <summary>Settings of one feature.</summary>
    public FeatureSettings For(string feature) => Features[feature];

    /// <summary>Settings of one feature for one entity: the first override whose pattern matches
    /// <c>kind/id</c> (e.g. <c>identity/spiffe://*/ns/ci/*</c>) and that sets the feature, else the defaults.</summary>
    public FeatureSettings For(Interfaces.EntityKey key, string feature)
    {
        if (Overrides.Count == 0)
        {
            return Features[feature];
        }

        var name = key.ToString();
        foreach (var o in Overrides)
        {
            if (o.Features.TryGetValue(feature, out var settings) && Glob.IsMatch(o.Match, name))
            {
                return settings;
            }
        }

        return Features[feature];
    }

    /// <summary>The built-in defaults, used when no file is given.</summary>
    public static DetectionConfig Default { get; } = DetectionConfigLoader.Parse(string.Empty, "defaults");
}
