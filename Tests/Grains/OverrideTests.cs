using AnomalyZT.Grains.Config;
using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Tests.Grains;

public sealed class OverrideTests
{
    [Theory]
    [InlineData("identity/spiffe://*/ns/ci/*", "identity/spiffe://cluster.local/ns/ci/sa/deployer", true)]
    [InlineData("identity/spiffe://*/ns/ci/*", "identity/spiffe://cluster.local/ns/ml/sa/ci", false)]
    [InlineData("node/gpu-node-0?", "node/gpu-node-07", true)]
    [InlineData("node/gpu-node-0?", "node/gpu-node-17", false)]
    [InlineData("*", "identity/anything", true)]
    [InlineData("identity/a*b*c", "identity/aXXbYYc", true)]
    [InlineData("identity/a*b*c", "identity/aXXbYY", false)]
    public void Glob_IsMatch(string pattern, string text, bool expected) => Assert.Equal(expected, Glob.IsMatch(pattern, text));

    [Fact]
    public void For_OverrideMatchesOnlyItsEntities_AndBuildsOnDefaults()
    {
        var c = DetectionConfigLoader.Parse("""
            defaults: { robust_level: { threshold: 6 } }
            overrides:
              - match: "identity/spiffe://*/ns/ci/*"
                features:
                  requests: { detectors: [robust_level, ewma], robust_level: { threshold: 12 } }
            """, "x");
        var ci = new EntityKey(EntityKind.Identity, "spiffe://cluster.local/ns/ci/sa/deployer");
        var other = new EntityKey(EntityKind.Identity, "alice@corp.example");
        Assert.Equal(12, c.For(ci, "requests").RobustLevel.Threshold);
        Assert.Equal(["robust_level", "ewma"], c.For(ci, "requests").Detectors);
        Assert.Equal(6, c.For(ci, "failures").RobustLevel.Threshold);
        Assert.Equal(6, c.For(other, "requests").RobustLevel.Threshold);
    }

    [Theory]
    [InlineData("overrides: { match: x }", "overrides must be a list")]
    [InlineData("overrides:\n  - match: alice\n    features: {}", "overrides[0].match is 'alice'")]
    [InlineData("overrides:\n  - match: identity/*\n    features: { reqs: {} }", "overrides[0].features.reqs is not a feature")]
    [InlineData("overrides:\n  - match: identity/*\n    features: { requests: 3 }", "overrides[0].features.requests must be a mapping")]
    [InlineData("overrides:\n  - match: identity/*\n    features: { requests: { robust_level: { threshold: 0 } } }", "overrides[0].features.requests.robust_level.threshold is '0'")]
    public void Parse_InvalidOverride_NamesIt(string yaml, string expected)
    {
        var ex = Assert.Throws<DetectionConfigException>(() => DetectionConfigLoader.Parse(yaml, "d.yaml"));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }
}
