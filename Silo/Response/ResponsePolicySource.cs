using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Grains.Policy;

namespace AnomalyZT.Silo.Response;

/// <summary>The response policy in force, swapped by the config watcher on a valid reload.</summary>
public sealed class ResponsePolicySource(ResponsePolicy initial, ConnectorRegistry connectors)
{
    private volatile ResponsePolicy _current = Check(initial, connectors);

    /// <summary>The connectors policies are checked against.</summary>
    public ConnectorRegistry Connectors => connectors;

    /// <summary>The policy in force.</summary>
    public ResponsePolicy Current => _current;

    /// <summary>Validates <paramref name="next"/> against the configured connectors and puts it in force.</summary>
    /// <exception cref="InvalidOperationException">A rule names a connector that is not configured, or asks one for an
    /// action it cannot do; the policy in force stays.</exception>
    public void Apply(ResponsePolicy next) => _current = Check(next, connectors);

    /// <summary>Errors of <paramref name="policy"/> against <paramref name="connectors"/>, each naming the rule, the value
    /// and what is allowed.</summary>
    public static IReadOnlyList<string> Validate(ResponsePolicy policy, ConnectorRegistry connectors)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(connectors);
        var errors = new List<string>();
        foreach (var rule in policy.Rules)
        {
            foreach (var name in rule.Connectors)
            {
                if (!connectors.TryGet(name, out var connector))
                {
                    errors.Add($"response.rules '{rule.Name}': connector '{name}' is not configured; configured: {string.Join(", ", connectors.Names)}");
                    continue;
                }

                foreach (var step in rule.Ladder)
                {
                    if (step.Action == ResponseActionKind.Notify)
                    {
                        continue;
                    }

                    if (!connector.Supports(step.Action, restore: false))
                    {
                        errors.Add($"response.rules '{rule.Name}': connector '{name}' cannot {ActionNames.Of(step.Action)}");
                    }
                    else if (step.TtlMinutes > 0 && !ResponseAction.IsOneShot(step.Action) && !connector.Supports(step.Action, restore: true))
                    {
                        errors.Add($"response.rules '{rule.Name}': connector '{name}' cannot undo {ActionNames.Of(step.Action)}, so ttl_minutes must be 0");
                    }
                }
            }
        }

        return errors;
    }

    private static ResponsePolicy Check(ResponsePolicy policy, ConnectorRegistry connectors)
    {
        var errors = Validate(policy, connectors);
        return errors.Count == 0 ? policy : throw new InvalidOperationException(string.Join("; ", errors));
    }
}
