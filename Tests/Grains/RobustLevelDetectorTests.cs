using AnomalyZT.Grains.Config;
using AnomalyZT.Grains.Detectors;

namespace AnomalyZT.Tests.Grains;

public sealed class RobustLevelDetectorTests
{
    private static RobustLevelSettings Settings(int window = 10, int warmup = 5, double threshold = 3, double absFloor = 1e-9, double relFloor = 0) =>
        new() { Window = window, Warmup = warmup, Threshold = threshold, AbsoluteFloor = absFloor, RelativeFloor = relFloor };

    [Fact]
    public void Update_HandComputedWindow_GivesMedianMadBounds()
    {
        var d = new RobustLevelDetector(Settings());
        foreach (var v in new double[] { 1, 2, 3, 4, 100 })
        {
            d.Update(v, 0);
        }

        // Window {1,2,3,4,100}: median 3; |x-3| = {2,1,0,1,97} → MAD 1; scale 1.4826; bounds 3 ± 3·1.4826.
        var v2 = d.Update(10, 0);
        Assert.Equal(3, v2.Expected, 12);
        Assert.Equal(3 - 3 * 1.4826, v2.Lower, 9);
        Assert.Equal(3 + 3 * 1.4826, v2.Upper, 9);
        Assert.Equal((10 - 3) / 1.4826, v2.Score, 9);
        Assert.True(v2.IsAnomaly);
        Assert.Equal(5, v2.BaselineCount);
    }

    [Fact]
    public void Update_DuringWarmup_NeverAlerts()
    {
        var d = new RobustLevelDetector(Settings(warmup: 5));
        Assert.False(d.Update(1, 0).IsAnomaly);
        Assert.False(d.Update(1, 0).IsAnomaly);
        Assert.False(d.Update(1e9, 0).IsAnomaly);
        Assert.Equal(3, d.Seen);
    }

    [Fact]
    public void Update_FlatBaseline_UsesFloorInsteadOfZeroMad()
    {
        var d = new RobustLevelDetector(Settings(absFloor: 2, relFloor: 0.1));
        for (var i = 0; i < 8; i++)
        {
            d.Update(10, 0);
        }

        // MAD 0; floor max(0.1·10, 2) = 2; 15 is 2.5 scales away (< 3), 17 is 3.5 away.
        Assert.False(d.Update(15, 0).IsAnomaly);
        Assert.True(d.Update(17, 0).IsAnomaly);
    }

    [Fact]
    public void Update_UpperDirection_IgnoresDrops_BothFlagsThem()
    {
        var upper = new RobustLevelDetector(Settings());
        var both = new RobustLevelDetector(new RobustLevelSettings { Window = 10, Warmup = 5, Threshold = 3, AbsoluteFloor = 1e-9, RelativeFloor = 0, Direction = "both" });
        foreach (var v in new double[] { 50, 51, 49, 50, 52, 48 })
        {
            upper.Update(v, 0);
            both.Update(v, 0);
        }

        Assert.False(upper.Update(0, 0).IsAnomaly);
        Assert.True(both.Update(0, 0).IsAnomaly);
    }

    [Fact]
    public void Update_PValue_IsUpperNormalTail()
    {
        var d = new RobustLevelDetector(Settings(threshold: 100));
        foreach (var v in new double[] { 1, 2, 3, 4, 5 })
        {
            d.Update(v, 0);
        }

        // Window {1..5}: median 3, MAD 1, scale 1.4826; z = 1.96 has upper tail 0.025.
        var verdict = d.Update(3 + (1.959963984540054 * 1.4826), 0);
        Assert.Equal(0.025, verdict.PValue, 4);
    }

    [Fact]
    public void WriteRead_RoundTrip_GivesIdenticalSubsequentVerdicts()
    {
        var rng = new Random(7);
        var a = new RobustLevelDetector(Settings(window: 16, warmup: 4));
        for (var i = 0; i < 40; i++)
        {
            a.Update(rng.NextDouble() * 100, 0);
        }

        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            a.Write(w);
        }

        stream.Position = 0;
        var b = new RobustLevelDetector(Settings(window: 16, warmup: 4));
        using (var r = new BinaryReader(stream))
        {
            b.Read(r);
        }

        for (var i = 0; i < 40; i++)
        {
            var x = rng.NextDouble() * 300;
            Assert.Equal(a.Update(x, 0), b.Update(x, 0));
        }
    }

    [Fact]
    public void Median_Quickselect_EqualsSortedMedian_OnRandomAndAdversarialInput()
    {
        var rng = new Random(5);
        for (var iteration = 0; iteration < 2000; iteration++)
        {
            var n = 1 + rng.Next(130);
            var values = new double[n];
            var shape = iteration % 4;
            for (var i = 0; i < n; i++)
            {
                values[i] = shape switch
                {
                    0 => rng.NextDouble() * 1000,
                    1 => rng.Next(3),        // many ties
                    2 => i,                  // sorted
                    _ => n - i,              // reversed
                };
            }

            var sorted = (double[])values.Clone();
            Array.Sort(sorted);
            var expected = n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[(n / 2) - 1] + sorted[n / 2]);
            Assert.Equal(expected, RobustLevelDetector.Median(values));
        }
    }

    [Fact]
    public void Update_NaN_IsIgnoredAndNeverEscapesAsScore()
    {
        var d = new RobustLevelDetector(Settings());
        var v = d.Update(double.NaN, 0);
        Assert.False(v.IsAnomaly);
        Assert.Equal(0, d.Seen);
        Assert.Equal(0, v.Score);
    }
}
