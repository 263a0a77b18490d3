using System.Globalization;
using AnomalyZT.Grains.Config;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Grains.Risk;

namespace AnomalyZT.Grains.Policy;

/// <summary>One step of a rule's escalation ladder: what to do at the n-th offence and for how long.</summary>
/// <param name="Action">What to do.</param>
/// <param name="TtlMinutes">Minutes until an automatic restore; 0 keeps it until undone.</param>
public sealed record LadderStep(ResponseActionKind Action, double TtlMinutes);

/// <summary>A response rule: when an identity's risk and findings meet its conditions, act through its connectors.</summary>
public sealed class ResponseRule
{
    /// <summary>Unique name, recorded on every action.</summary>
    public string Name { get; set; } = string.Empty;

    /// <summary>The rule matches only when the risk is at least this.</summary>
    public double RiskAtLeast { get; set; } = 50;

    /// <summary>Patterns over <c>detector:feature</c> (e.g. <c>first-seen:new_resource</c>, <c>*:bytes_out</c>); when
    /// not empty, at least one contributing finding must match one.</summary>
    public List<string> Findings { get; set; } = [];

    /// <summary><c>any</c>, <c>human</c> or <c>service</c>.</summary>
    public string IdentityClass { get; set; } = IdentityClasses.Any;

    /// <summary>Sensitive resource patterns; when not empty, a contributing finding must name a matching resource.</summary>
    public List<string> Resources { get; set; } = [];

    /// <summary>What to do at the first, second, … offence within <see cref="ResponsePolicy.LadderWindowDays"/>; the last
    /// step repeats.</summary>
    public List<LadderStep> Ladder { get; set; } = [];

    /// <summary>Connector names (keys of <c>Response:Connectors</c>) the action goes to; one action each.</summary>
    public List<string> Connectors { get; set; } = [];

    /// <summary>Dry run for this rule, whatever the global switch says (null: follow the global switch).</summary>
    public bool? DryRun { get; set; }

    /// <summary>Actions wait for a responder's approval.</summary>
    public bool Approval { get; set; }

    /// <summary>The ladder step for an identity that had <paramref name="previous"/> actions of this rule recently.</summary>
    public LadderStep StepFor(int previous) => Ladder[Math.Clamp(previous, 0, Ladder.Count - 1)];
}

/// <summary>Identity classes a rule can require.</summary>
public static class IdentityClasses
{
    /// <summary>Every identity.</summary>
    public const string Any = "any";

    /// <summary>People: identities no service pattern matches.</summary>
    public const string Human = "human";

    /// <summary>Workloads: identities a service pattern matches (SPIFFE ids, Kubernetes service accounts…).</summary>
    public const string Service = "service";

    /// <summary>Every class name.</summary>
    public static readonly string[] All = [Any, Human, Service];
}

/// <summary>Per-connector circuit breaker: more than <see cref="MaxActions"/> actions in <see cref="WindowMinutes"/>
/// opens it; while open (for <see cref="OpenMinutes"/>) new actions wait for approval.</summary>
public sealed class BreakerSettings
{
    /// <summary>Actions a connector may take in the window before the breaker opens.</summary>
    public int MaxActions { get; set; } = 5;

    /// <summary>Length of the counting window.</summary>
    public int WindowMinutes { get; set; } = 10;

    /// <summary>How long the breaker stays open after it tripped.</summary>
    public int OpenMinutes { get; set; } = 30;
}

/// <summary>The response policy (section <c>response</c> of <c>detectors.yaml</c>): risk weights, guardrails, rules.</summary>
public sealed class ResponsePolicy
{
    /// <summary>Global dry run: record what would be done, do nothing. On unless the file turns it off.</summary>
    public bool DryRun { get; set; } = true;

    /// <summary>How findings become risk.</summary>
    public RiskSettings Risk { get; set; } = new();

    /// <summary>Identity patterns that name services; everything else is human.</summary>
    public List<string> ServicePatterns { get; set; } = ["spiffe://*", "system:serviceaccount:*"];

    /// <summary>Groups by name, each a list of identity patterns (used by the allowlist).</summary>
    public Dictionary<string, List<string>> Groups { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Identity patterns never acted on (break-glass accounts).</summary>
    public List<string> AllowIdentities { get; set; } = [];

    /// <summary>Groups never acted on.</summary>
    public List<string> AllowGroups { get; set; } = [];

    /// <summary>Circuit breaker per connector.</summary>
    public BreakerSettings Breaker { get; set; } = new();

    /// <summary>Offences older than this many days no longer climb the ladder.</summary>
    public int LadderWindowDays { get; set; } = 30;

    /// <summary>Rules, evaluated in order; every matching rule acts.</summary>
    public List<ResponseRule> Rules { get; set; } = [];

    /// <summary>The policy with no rules: nothing is ever acted on.</summary>
    public static ResponsePolicy None { get; } = new();

    /// <summary><c>human</c> or <c>service</c> for <paramref name="identityId"/>.</summary>
    public string ClassOf(string identityId) =>
        ServicePatterns.Exists(p => Glob.IsMatch(p, identityId)) ? IdentityClasses.Service : IdentityClasses.Human;

    /// <summary>The allowlist entry that protects <paramref name="identityId"/>, or null when none does.</summary>
    public string? AllowlistedBy(string identityId)
    {
        foreach (var p in AllowIdentities)
        {
            if (Glob.IsMatch(p, identityId))
            {
                return "identity pattern " + p;
            }
        }

        foreach (var g in AllowGroups)
        {
            if (Groups.TryGetValue(g, out var members) && members.Exists(p => Glob.IsMatch(p, identityId)))
            {
                return "group " + g;
            }
        }

        return null;
    }

    /// <summary>The rules that match an identity whose risk now is <paramref name="risk"/>, explained by
    /// <paramref name="shares"/> (its contributions, strongest first).</summary>
    public IEnumerable<ResponseRule> Matching(string identityId, double risk, IReadOnlyList<RiskShare> shares)
    {
        ArgumentNullException.ThrowIfNull(shares);
        var cls = ClassOf(identityId);
        foreach (var rule in Rules)
        {
            if (risk < rule.RiskAtLeast || (rule.IdentityClass != IdentityClasses.Any && rule.IdentityClass != cls))
            {
                continue;
            }

            if (rule.Findings.Count > 0 && !Any(shares, s => rule.Findings.Exists(p => Glob.IsMatch(p, s.Contribution.Detector + ":" + s.Contribution.Feature))))
            {
                continue;
            }

            if (rule.Resources.Count > 0 && !Any(shares, s => Array.Exists(s.Contribution.Examples, e => rule.Resources.Exists(p => Glob.IsMatch(p, e)))))
            {
                continue;
            }

            yield return rule;
        }
    }

    /// <summary>A stable text of the whole policy, part of the config version.</summary>
    public string Fingerprint()
    {
        var text = new System.Text.StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"dry={DryRun};{Risk.Fingerprint()};svc={string.Join(',', ServicePatterns)};");
        foreach (var (name, members) in Groups.OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            text.Append(CultureInfo.InvariantCulture, $"g:{name}={string.Join(',', members)};");
        }

        text.Append(CultureInfo.InvariantCulture, $"allow={string.Join(',', AllowIdentities)}|{string.Join(',', AllowGroups)};");
        text.Append(CultureInfo.InvariantCulture, $"br={Breaker.MaxActions}/{Breaker.WindowMinutes}/{Breaker.OpenMinutes};ladder={LadderWindowDays};");
        foreach (var r in Rules)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"r:{r.Name}:{r.RiskAtLeast}:{string.Join(',', r.Findings)}:{r.IdentityClass}:{string.Join(',', r.Resources)}:");
            text.Append(CultureInfo.InvariantCulture,
                $"{string.Join(',', r.Ladder.Select(s => $"{s.Action}/{s.TtlMinutes}"))}:{string.Join(',', r.Connectors)}:{r.DryRun}:{r.Approval};");
        }

        return text.ToString();
    }

    private static bool Any(IReadOnlyList<RiskShare> shares, Func<RiskShare, bool> predicate)
    {
        foreach (var s in shares)
        {
            if (s.Current > 0 && predicate(s))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>Names of actions as written in <c>detectors.yaml</c>.</summary>
public static class ActionNames
{
    /// <summary>Every name, in <see cref="ResponseActionKind"/> order.</summary>
    public static readonly string[] All = ["notify", "revoke_sessions", "disable", "revoke_token", "require_reauth"];

    /// <summary>The YAML name of <paramref name="kind"/>.</summary>
    public static string Of(ResponseActionKind kind) => All[(int)kind];

    /// <summary>Parses a YAML name.</summary>
    public static bool TryParse(string? name, out ResponseActionKind kind)
    {
        var i = name is null ? -1 : Array.IndexOf(All, name);
        kind = (ResponseActionKind)Math.Max(i, 0);
        return i >= 0;
    }
}
