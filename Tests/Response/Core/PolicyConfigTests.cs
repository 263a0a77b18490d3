using AnomalyZT.Grains.Config;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Grains.Policy;
using AnomalyZT.Grains.Risk;
using AnomalyZT.Silo.Response;
using AnomalyZT.Tests.Silo;

namespace AnomalyZT.Tests.Response.Core;

public sealed class PolicyConfigTests
{
    [Fact]
    public void NoResponseSection_IsADryRunWithNoRules()
    {
        var policy = DetectionConfigLoader.Parse(string.Empty, "t").Response;
        Assert.True(policy.DryRun);
        Assert.Empty(policy.Rules);
    }

    [Fact]
    public void TheSampleConfig_LoadsItsResponsePolicy_InDryRun()
    {
        var policy = DetectionConfigLoader.Load(Path.Combine(RepoPaths.Root, "samples", "detectors.yaml")).Response;
        Assert.True(policy.DryRun);
        Assert.NotEmpty(policy.Rules);
        Assert.NotEmpty(policy.AllowGroups);
    }

    [Fact]
    public void ARuleParses_WithItsLadderGuardrailsAndConditions()
    {
        var policy = DetectionConfigLoader.Parse("""
            response:
              dry_run: false
              risk: { half_life_minutes: 30, weights: { low: 1, high: 40 } }
              identity_classes: { service: ["svc-*"] }
              groups: { admins: ["root@*"] }
              allowlist: { identities: ["breakglass"], groups: [admins] }
              breaker: { max_actions: 3, window_minutes: 5, open_minutes: 15 }
              rules:
                - name: r1
                  risk_at_least: 70
                  findings: ["first-seen:*", "*:bytes_out"]
                  identity_class: human
                  resources: ["s3://secret/*"]
                  ladder: [{ action: revoke_sessions }, { action: disable, ttl_minutes: 0.5 }]
                  connectors: [scim]
                  approval: true
            """, "t").Response;
        Assert.False(policy.DryRun);
        Assert.Equal(30, policy.Risk.HalfLifeMinutes);
        Assert.Equal([0, 1, 15, 40, 60], policy.Risk.Weights);
        Assert.Equal((3, 5, 15), (policy.Breaker.MaxActions, policy.Breaker.WindowMinutes, policy.Breaker.OpenMinutes));
        var rule = Assert.Single(policy.Rules);
        Assert.Equal([new LadderStep(ResponseActionKind.RevokeSessions, 0), new LadderStep(ResponseActionKind.Disable, 0.5)], rule.Ladder);
        Assert.True(rule.Approval);
        Assert.Null(rule.DryRun);
        Assert.Equal(IdentityClasses.Service, policy.ClassOf("svc-x"));
        Assert.Equal(IdentityClasses.Human, policy.ClassOf("spiffe://a/b"));
        Assert.Equal("group admins", policy.AllowlistedBy("root@corp"));
        Assert.Null(policy.AllowlistedBy("alice"));
        Assert.Equal(rule.Ladder[1], rule.StepFor(7));
    }

    [Theory]
    [InlineData("rules: [{ name: r, action: explode, connectors: [x] }]", "response.rules[0].action is 'explode'; allowed: notify, revoke_sessions")]
    [InlineData("rules: [{ name: r, action: disable, ladder: [{ action: disable }], connectors: [x] }]", "exactly one of action")]
    [InlineData("rules: [{ name: r, action: disable }]", "response.rules[0].connectors is empty")]
    [InlineData("rules: [{ name: r, action: disable, connectors: [x], identity_class: robot }]", "identity_class is 'robot'; allowed: any, human, service")]
    [InlineData("rules: [{ name: r, action: disable, connectors: [x], findings: [bytes_out] }]", "each entry is detector:feature")]
    [InlineData("rules: [{ name: r, action: disable, connectors: [x] }, { name: r, action: notify }]", "the name 'r' is used twice")]
    [InlineData("rules: [{ name: 'bad name', action: notify }]", "response.rules[0].name is 'bad name'")]
    [InlineData("allowlist: { groups: [ghosts] }", "response.allowlist.groups names 'ghosts', which is not a group")]
    [InlineData("breaker: { max_actions: 0 }", "response.breaker.max_actions is '0'; it must be a whole number from 1")]
    [InlineData("risk: { half_life_minutes: -1 }", "response.risk.half_life_minutes is '-1'")]
    [InlineData("dry_run: maybe", "response.dry_run is 'maybe'; it must be true or false")]
    [InlineData("rules: [{ name: r, action: disable, connectors: [x], ttl_minutes: -5 }]", "response.rules[0].ttl_minutes is '-5'")]
    [InlineData("surprise: 1", "response.surprise is not a known key")]
    public void InvalidPolicies_AreRefused_NamingTheKeyTheValueAndWhatIsAllowed(string body, string expected)
    {
        var yaml = "response:\n  " + body;
        var ex = Assert.Throws<DetectionConfigException>(() => DetectionConfigLoader.Parse(yaml, "t"));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void APolicyNamingAnUnknownConnector_OrAnActionItCannotDo_IsRefused()
    {
        var registry = new ConnectorRegistry([new RecordingConnector("idp")]);
        var unknown = DetectionConfigLoader.Parse("response:\n  rules: [{ name: r, action: disable, connectors: [scim] }]", "t").Response;
        Assert.Contains("connector 'scim' is not configured; configured: idp", Assert.Single(ResponsePolicySource.Validate(unknown, registry)), StringComparison.Ordinal);
        var undo = DetectionConfigLoader.Parse("response:\n  rules: [{ name: r, action: require_reauth, ttl_minutes: 5, connectors: [idp] }]", "t").Response;
        Assert.Contains("cannot undo require_reauth", Assert.Single(ResponsePolicySource.Validate(undo, registry)), StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => new ResponsePolicySource(unknown, registry));
    }
}

public sealed class IdentityRiskTests
{
    private static readonly RiskSettings Settings = new() { HalfLifeMinutes = 60 };

    [Fact]
    public void Risk_IsSeverityWeighted_AndHalvesEveryHalfLife()
    {
        var risk = new IdentityRisk("alice");
        Assert.True(risk.Add(ResponseHarness.IdentityFinding("alice", "failures", 0, Severity.High), Settings));
        Assert.True(risk.Add(ResponseHarness.IdentityFinding("alice", "requests", 0, Severity.Medium), Settings));
        var at = risk.AsOfMs;
        Assert.Equal(50, risk.ValueAt(at, Settings), 9);
        Assert.Equal(25, risk.ValueAt(at + 3_600_000, Settings), 9);
        Assert.Equal(12.5, risk.ValueAt(at + 7_200_000, Settings), 9);
        var shares = risk.Explain(at + 3_600_000, Settings);
        Assert.Equal(["failures", "requests"], shares.Select(s => s.Contribution.Feature));
        Assert.Equal(17.5, shares[0].Current, 9);
    }

    [Fact]
    public void TheSameFindingCountsOnce_InfoWeighsNothing_AndRiskIsCapped()
    {
        var risk = new IdentityRisk("alice");
        var f = ResponseHarness.IdentityFinding("alice", "failures", 0, Severity.Critical);
        Assert.True(risk.Add(f, Settings));
        Assert.False(risk.Add(f, Settings));
        Assert.False(risk.Add(ResponseHarness.IdentityFinding("alice", "x", 0, Severity.Info), Settings));
        Assert.True(risk.Add(ResponseHarness.IdentityFinding("alice", "requests", 0, Severity.Critical), Settings));
        Assert.Equal(100, risk.ValueAt(risk.AsOfMs, Settings));
    }

    [Fact]
    public void Contributions_AreBounded_KeepingTheStrongest()
    {
        var settings = new RiskSettings { HalfLifeMinutes = 60, MaxContributions = 4 };
        var risk = new IdentityRisk("alice");
        for (var i = 0; i < 50; i++)
        {
            risk.Add(ResponseHarness.IdentityFinding("alice", "f" + i, i, i == 45 ? Severity.Critical : Severity.Low), settings);
        }

        Assert.Equal(4, risk.Contributions.Count);
        Assert.Contains(risk.Contributions, c => c.Feature == "f45");
        Assert.All(risk.Explain(risk.AsOfMs, settings), s => Assert.True(double.IsFinite(s.Current)));
    }
}
