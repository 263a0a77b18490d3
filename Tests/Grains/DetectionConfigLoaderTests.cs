using AnomalyZT.Grains.Config;

namespace AnomalyZT.Tests.Grains;

public sealed class DetectionConfigLoaderTests
{
    [Fact]
    public void Parse_Empty_GivesDefaultsWithContentHashVersion()
    {
        var c = DetectionConfigLoader.Parse(string.Empty, "x");
        Assert.StartsWith("sha256:", c.Version, StringComparison.Ordinal);
        Assert.Equal(600, c.For("bytes_out").BucketSeconds);
        Assert.Equal(65536, c.For("bytes_out").RobustLevel.AbsoluteFloor);
        Assert.Equal(300, c.AllowedLatenessSeconds);
    }

    [Fact]
    public void Parse_FeatureOverride_AppliesOnlyToThatFeature()
    {
        var c = DetectionConfigLoader.Parse("""
            version: v7
            defaults: { bucket_seconds: 300, robust_level: { threshold: 5 } }
            features:
              gpu_util: { bucket_seconds: 60, robust_level: { threshold: 3, direction: both } }
            """, "x");
        Assert.Equal("v7", c.Version);
        Assert.Equal(60, c.For("gpu_util").BucketSeconds);
        Assert.Equal(3, c.For("gpu_util").RobustLevel.Threshold);
        Assert.Equal("both", c.For("gpu_util").RobustLevel.Direction);
        Assert.Equal(300, c.For("requests").BucketSeconds);
        Assert.Equal(5, c.For("requests").RobustLevel.Threshold);
    }

    [Theory]
    [InlineData("features:\n  bytes_out: { robust_level: { threshold: -1 } }", "features.bytes_out.robust_level.threshold is '-1'")]
    [InlineData("features:\n  byte_out: {}", "features.byte_out is not a feature")]
    [InlineData("defaults: { robust_level: { treshold: 4 } }", "defaults.robust_level.treshold is not a known key")]
    [InlineData("defaults: { bucket_seconds: 5 }", "defaults.bucket_seconds is '5'; it must be a whole number from 10 to 86400")]
    [InlineData("features:\n  gpu_util: { robust_level: { direction: down } }", "features.gpu_util.robust_level.direction is 'down'")]
    [InlineData("first_seen: { enabled: maybe }", "first_seen.enabled is 'maybe'; it must be true or false")]
    [InlineData("defaults: { robust_level: { window: 10, warmup: 20 } }", "defaults.robust_level.warmup is '20'")]
    [InlineData("a: [", "invalid YAML at line")]
    public void Parse_Invalid_NamesKeyValueAndAllowed(string yaml, string expected)
    {
        var ex = Assert.Throws<DetectionConfigException>(() => DetectionConfigLoader.Parse(yaml, "detectors.yaml"));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ShippedSampleConfig_IsValidAndAppliesItsOverrides()
    {
        var c = DetectionConfigLoader.Load(Path.Combine(AnomalyZT.Tests.Silo.RepoPaths.Root, "samples", "detectors.yaml"));
        Assert.Equal("2026-11-22.1", c.Version);
        Assert.Equal(1048576, c.For("bytes_out").RobustLevel.AbsoluteFloor);
        Assert.Equal(["robust_level", "hour_of_week"], c.For("bytes_out").Detectors);
        Assert.Equal(300, c.For("gpu_util_unattributed").BucketSeconds);
        Assert.Equal("novelty", c.Nab.Detector);
    }

    [Fact]
    public void Parse_AbsoluteFloorInDefaults_OverridesBuiltInFeatureFloors()
    {
        var c = DetectionConfigLoader.Parse("defaults: { robust_level: { absolute_floor: 3 } }", "x");
        Assert.Equal(3, c.For("bytes_out").RobustLevel.AbsoluteFloor);
        Assert.Equal(65536, DetectionConfigLoader.Parse(string.Empty, "x").For("bytes_out").RobustLevel.AbsoluteFloor);
    }
}
