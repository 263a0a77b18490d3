using System.Globalization;
using AnomalyZT.Grains.Policy;
using YamlDotNet.RepresentationModel;

namespace AnomalyZT.Grains.Config;

/// <summary>The <c>response</c> section: risk weights, guardrails and rules.</summary>
public static partial class DetectionConfigLoader
{
    private static readonly string[] ResponseKeys =
        ["dry_run", "risk", "identity_classes", "groups", "allowlist", "breaker", "ladder_window_days", "rules"];

    private static readonly string[] RiskKeys = ["half_life_minutes", "weights", "max", "max_contributions"];
    private static readonly string[] WeightKeys = ["info", "low", "medium", "high", "critical"];
    private static readonly string[] AllowKeys = ["identities", "groups"];
    private static readonly string[] BreakerKeys = ["max_actions", "window_minutes", "open_minutes"];
    private static readonly string[] ClassKeys = ["service"];

    private static readonly string[] RuleKeys =
        ["name", "risk_at_least", "findings", "identity_class", "resources", "action", "ttl_minutes", "ladder", "connectors", "dry_run", "approval"];

    private static readonly string[] StepKeys = ["action", "ttl_minutes"];

    private static ResponsePolicy ParseResponse(YamlMappingNode node)
    {
        const string p = "response";
        CheckKeys(node, p, ResponseKeys);
        var policy = new ResponsePolicy { DryRun = Bool(node, "dry_run", p, true) };
        if (Child(node, "risk") is { } risk)
        {
            const string rp = p + ".risk";
            CheckKeys(risk, rp, RiskKeys);
            var r = policy.Risk;
            r.HalfLifeMinutes = Double(risk, "half_life_minutes", rp, r.HalfLifeMinutes, 1, 525_600);
            r.Max = Double(risk, "max", rp, r.Max, 1, 1_000_000);
            r.MaxContributions = Int(risk, "max_contributions", rp, r.MaxContributions, 1, 256);
            if (Child(risk, "weights") is { } weights)
            {
                CheckKeys(weights, rp + ".weights", WeightKeys);
                for (var i = 0; i < WeightKeys.Length; i++)
                {
                    r.Weights[i] = Double(weights, WeightKeys[i], rp + ".weights", r.Weights[i], 0, r.Max);
                }
            }
        }

        if (Child(node, "identity_classes") is { } classes)
        {
            CheckKeys(classes, p + ".identity_classes", ClassKeys);
            policy.ServicePatterns = StringList(classes, "service", p + ".identity_classes") ?? policy.ServicePatterns;
        }

        if (Child(node, "groups") is { } groups)
        {
            foreach (var (keyNode, _) in groups.Children)
            {
                var name = (keyNode as YamlScalarNode)?.Value ?? string.Empty;
                policy.Groups[name] = StringList(groups, name, p + ".groups") ?? [];
            }
        }

        if (Child(node, "allowlist") is { } allow)
        {
            CheckKeys(allow, p + ".allowlist", AllowKeys);
            policy.AllowIdentities = StringList(allow, "identities", p + ".allowlist") ?? [];
            policy.AllowGroups = StringList(allow, "groups", p + ".allowlist") ?? [];
            foreach (var g in policy.AllowGroups)
            {
                if (!policy.Groups.ContainsKey(g))
                {
                    throw new DetectionConfigException(
                        $"{p}.allowlist.groups names '{g}', which is not a group; defined groups: {Names(policy.Groups.Keys)}");
                }
            }
        }

        if (Child(node, "breaker") is { } breaker)
        {
            const string bp = p + ".breaker";
            CheckKeys(breaker, bp, BreakerKeys);
            var b = policy.Breaker;
            b.MaxActions = Int(breaker, "max_actions", bp, b.MaxActions, 1, 100_000);
            b.WindowMinutes = Int(breaker, "window_minutes", bp, b.WindowMinutes, 1, 10_080);
            b.OpenMinutes = Int(breaker, "open_minutes", bp, b.OpenMinutes, 1, 10_080);
        }

        policy.LadderWindowDays = Int(node, "ladder_window_days", p, policy.LadderWindowDays, 1, 3650);
        if (node.Children.TryGetValue(new YamlScalarNode("rules"), out var rulesNode))
        {
            if (rulesNode is not YamlSequenceNode rules)
            {
                throw new DetectionConfigException($"{p}.rules must be a list of rules (- name: …)");
            }

            var index = 0;
            foreach (var item in rules)
            {
                var rule = ParseRule(item, string.Create(CultureInfo.InvariantCulture, $"{p}.rules[{index++}]"));
                if (policy.Rules.Exists(r => r.Name == rule.Name))
                {
                    throw new DetectionConfigException($"{p}.rules: the name '{rule.Name}' is used twice; rule names must be unique");
                }

                policy.Rules.Add(rule);
            }
        }

        return policy;
    }

    private static ResponseRule ParseRule(YamlNode item, string path)
    {
        if (item is not YamlMappingNode node)
        {
            throw new DetectionConfigException($"{path} must be a mapping with name, risk_at_least, action and connectors");
        }

        CheckKeys(node, path, RuleKeys);
        var name = Scalar(node, "name", path);
        if (string.IsNullOrWhiteSpace(name) || name.Length > 64 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            throw new DetectionConfigException($"{path}.name is '{name}'; it must be 1 to 64 letters, digits, '-', '_' or '.'");
        }

        var rule = new ResponseRule
        {
            Name = name,
            RiskAtLeast = Double(node, "risk_at_least", path, 50, 0, 1_000_000),
            Findings = StringList(node, "findings", path) ?? [],
            Resources = StringList(node, "resources", path) ?? [],
            Connectors = StringList(node, "connectors", path) ?? [],
            Approval = Bool(node, "approval", path, false),
            DryRun = Scalar(node, "dry_run", path) is null ? null : Bool(node, "dry_run", path, true),
            IdentityClass = Scalar(node, "identity_class", path) ?? IdentityClasses.Any,
        };
        if (Array.IndexOf(IdentityClasses.All, rule.IdentityClass) < 0)
        {
            throw new DetectionConfigException($"{path}.identity_class is '{rule.IdentityClass}'; allowed: {string.Join(", ", IdentityClasses.All)}");
        }

        foreach (var f in rule.Findings)
        {
            if (!f.Contains(':', StringComparison.Ordinal))
            {
                throw new DetectionConfigException($"{path}.findings has '{f}'; each entry is detector:feature, with * allowed (e.g. first-seen:new_resource, *:bytes_out)");
            }
        }

        var hasAction = HasKey(node, "action");
        var hasLadder = HasKey(node, "ladder");
        if (hasAction == hasLadder)
        {
            throw new DetectionConfigException($"{path} must have exactly one of action (with ttl_minutes) or ladder (a list of {{ action, ttl_minutes }})");
        }

        if (hasAction)
        {
            rule.Ladder.Add(new LadderStep(ActionOf(node, path), Double(node, "ttl_minutes", path, 0, 0, 525_600)));
        }
        else
        {
            if (HasKey(node, "ttl_minutes"))
            {
                throw new DetectionConfigException($"{path}.ttl_minutes goes on each ladder step, not on a rule with a ladder");
            }

            if (node.Children[new YamlScalarNode("ladder")] is not YamlSequenceNode { Children.Count: > 0 } ladder)
            {
                throw new DetectionConfigException($"{path}.ladder must be a non-empty list of {{ action, ttl_minutes }}");
            }

            var i = 0;
            foreach (var stepNode in ladder)
            {
                var sp = string.Create(CultureInfo.InvariantCulture, $"{path}.ladder[{i++}]");
                if (stepNode is not YamlMappingNode step)
                {
                    throw new DetectionConfigException($"{sp} must be a mapping {{ action, ttl_minutes }}");
                }

                CheckKeys(step, sp, StepKeys);
                rule.Ladder.Add(new LadderStep(ActionOf(step, sp), Double(step, "ttl_minutes", sp, 0, 0, 525_600)));
            }
        }

        var acts = rule.Ladder.Exists(s => s.Action != Interfaces.ResponseActionKind.Notify);
        if (acts && rule.Connectors.Count == 0)
        {
            throw new DetectionConfigException($"{path}.connectors is empty; a rule that acts must name at least one connector (a key of Response:Connectors)");
        }

        return rule;
    }

    private static Interfaces.ResponseActionKind ActionOf(YamlMappingNode node, string path)
    {
        var text = Scalar(node, "action", path);
        return ActionNames.TryParse(text, out var kind)
            ? kind
            : throw new DetectionConfigException($"{path}.action is '{text}'; allowed: {string.Join(", ", ActionNames.All)}");
    }

    /// <summary>A list of strings under <paramref name="key"/>, or null when the key is absent.</summary>
    private static List<string>? StringList(YamlMappingNode node, string key, string path)
    {
        if (!node.Children.TryGetValue(new YamlScalarNode(key), out var value))
        {
            return null;
        }

        if (value is not YamlSequenceNode sequence)
        {
            throw new DetectionConfigException($"{Join(path, key)} must be a list, e.g. [a, b]");
        }

        var list = new List<string>(sequence.Children.Count);
        foreach (var entry in sequence)
        {
            if (entry is not YamlScalarNode { Value: { Length: > 0 } text })
            {
                throw new DetectionConfigException($"{Join(path, key)} must hold only non-empty single values");
            }

            list.Add(text);
        }

        return list;
    }

    private static string Names(IEnumerable<string> names) =>
        names.Any() ? string.Join(", ", names.Order(StringComparer.Ordinal)) : "(none)";
}
