using AnomalyZT.Grains.Detectors.SpectralResidual;

namespace AnomalyZT.Tests.Detectors;

public sealed class SrStreamingDetectorTests
{
    [Fact]
    public void Update_FirstWindowSizeMinusOneRows_ReturnZeros()
    {
        var detector = new SrStreamingDetector(windowSize: 24);
        var random = new Random(3);
        for (var i = 0; i < 23; i++)
        {
            Assert.Equal((false, 0.0, 0.0), detector.Update(random.NextDouble() * 100));
        }

        Assert.NotEqual(0.0, detector.Update(random.NextDouble() * 100).Mag);
    }

    [Fact]
    public void Update_TinyZerosThenUnitSpike_MatchesHandComputedRawScore()
    {
        // windowSize 6, lookahead 2, backAdd 2, averaging 3, judgement 5; input 0,0,0,0,0,1.
        // ĝ uses y_0..y_2 = 0,0,0, so ĝ = 0 and the extended row is the impulse δ_5 of length N = 8.
        // F_k = exp(−2πi·5k/8): every |F_k| = 1, so Λ = 0, its trailing mean is 0 and F' = F; S = |IDFT(F)| = δ_5.
        // Mag = S_5 = 1; S̄_5 = mean(S_1..S_5) = 1/5; raw = |1 − 0.2| / 0.2 / 10 = 0.4 > 0.3 → alert.
        var detector = new SrStreamingDetector(windowSize: 6, backAddWindowSize: 2, lookaheadWindowSize: 2, averagingWindowSize: 3, judgementWindowSize: 5);
        for (var i = 0; i < 5; i++)
        {
            detector.Update(0);
        }

        var (alert, raw, mag) = detector.Update(1);
        Assert.Equal(0.4, raw, 12);
        Assert.Equal(1, mag, 12);
        Assert.True(alert);
    }

    [Fact]
    public void Update_DefaultsZerosThenUnitSpike_RawIsJudgementMinusOneOverTen()
    {
        // Same impulse argument with the defaults: raw = (21 − 1) / 10 = 2 (unclipped).
        var detector = new SrStreamingDetector();
        for (var i = 0; i < 63; i++)
        {
            detector.Update(0);
        }

        var (alert, raw, mag) = detector.Update(1);
        Assert.Equal(2.0, raw, 10);
        Assert.Equal(1, mag, 10);
        Assert.True(alert);
    }

    [Fact]
    public void Update_FlatSeriesWithOneSpike_FlagsTheSpikeAndItsEchoOnly()
    {
        var detector = new SrStreamingDetector();
        var alerts = new List<int>();
        for (var t = 0; t < 200; t++)
        {
            var (alert, raw, _) = detector.Update(t == 120 ? 30 : 10);
            if (alert)
            {
                alerts.Add(t);
            }

            if (t is >= 63 and < 120)
            {
                // A flat window has one non-zero bin, so S is flat and the score is exactly 0.
                Assert.Equal(0, raw, 12);
            }
        }

        // The row after the spike alerts too: its extrapolation ĝ uses the values before it, which now end with
        // the spike, so ĝ = 10 + 20·(1/5 + 1/4 + 1/3 + 1/2 + 1) ≈ 55.7 and the appended copies form a step right after
        // the current point. Nothing before the spike and nothing from two rows after it alerts.
        Assert.Equal(new[] { 120, 121 }, alerts);
    }

    [Fact]
    public void Update_RandomConstantAndExtremeSeries_NeverProduceNonFinite()
    {
        var random = new Random(11);
        var configs = new[] { (64, 5, 5, 3, 21), (24, 5, 5, 3, 21), (3, 1, 3, 3, 3), (1, 1, 1, 1, 1), (10, 7, 9, 10, 10) };
        foreach (var (w, b, l, a, j) in configs)
        {
            foreach (var series in TestSeries(random))
            {
                var detector = new SrStreamingDetector(w, b, l, a, j);
                foreach (var x in series)
                {
                    var (_, raw, mag) = detector.Update(x);
                    Assert.True(double.IsFinite(raw) && double.IsFinite(mag), $"window {w}: raw {raw}, mag {mag}");
                    Assert.True(raw >= 0 && mag >= 0);
                }
            }
        }
    }

    [Fact]
    public void Update_NonFiniteInput_IsSkippedAndLeavesStateUnchanged()
    {
        var a = new SrStreamingDetector(windowSize: 8, judgementWindowSize: 8);
        var b = new SrStreamingDetector(windowSize: 8, judgementWindowSize: 8);
        var random = new Random(5);
        for (var i = 0; i < 30; i++)
        {
            var x = random.NextDouble();
            if (i % 7 == 3)
            {
                Assert.Equal((false, 0.0, 0.0), a.Update(double.NaN));
                Assert.Equal((false, 0.0, 0.0), a.Update(double.PositiveInfinity));
            }

            Assert.Equal(b.Update(x), a.Update(x));
        }
    }

    [Fact]
    public void Update_AfterWarmup_AllocatesNothing()
    {
        var detector = new SrStreamingDetector();
        var random = new Random(9);
        for (var i = 0; i < 100; i++)
        {
            detector.Update(random.NextDouble());
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            detector.Update(i % 17);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(150)]
    public void WriteRead_RoundTrip_ContinuesIdentically(int before)
    {
        var random = new Random(before);
        var original = new SrStreamingDetector();
        for (var i = 0; i < before; i++)
        {
            original.Update(random.NextDouble() * 50);
        }

        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            original.Write(writer);
        }

        Assert.Equal(original.StateSize, stream.Length);
        stream.Position = 0;
        var restored = new SrStreamingDetector();
        using (var reader = new BinaryReader(stream))
        {
            restored.Read(reader);
        }

        Assert.Equal(original.Seen, restored.Seen);
        for (var i = 0; i < 100; i++)
        {
            var x = random.NextDouble() * 50 + (i == 40 ? 500 : 0);
            Assert.Equal(original.Update(x), restored.Update(x));
        }
    }

    [Fact]
    public void StateSize_FullWindowOf64_Is527Bytes()
    {
        var detector = new SrStreamingDetector();
        for (var i = 0; i < 200; i++)
        {
            detector.Update(i);
        }

        Assert.Equal(527, detector.StateSize);
    }

    [Fact]
    public void Read_StateFromOtherParameters_ThrowsAndKeepsState()
    {
        var other = new SrStreamingDetector(windowSize: 24);
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            other.Write(writer);
        }

        stream.Position = 0;
        var detector = new SrStreamingDetector();
        detector.Update(1);
        using var reader = new BinaryReader(stream);
        var ex = Assert.Throws<InvalidDataException>(() => detector.Read(reader));
        Assert.Contains("WindowSize 24; this detector has 64", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, detector.Seen);
    }

    [Theory]
    [InlineData(0, 5, 5, 3, 21, 0.3, "windowSize is 0; windowSize must be in [1, 1048576]")]
    [InlineData(64, 0, 5, 3, 21, 0.3, "backAddWindowSize is 0; backAddWindowSize must be in [1, 1048576]")]
    [InlineData(64, 5, 0, 3, 21, 0.3, "lookaheadWindowSize is 0; lookaheadWindowSize must be in [1, windowSize] = [1, 64]")]
    [InlineData(64, 5, 65, 3, 21, 0.3, "lookaheadWindowSize is 65; lookaheadWindowSize must be in [1, windowSize] = [1, 64]")]
    [InlineData(64, 5, 5, 65, 21, 0.3, "averagingWindowSize is 65; averagingWindowSize must be in [1, windowSize] = [1, 64]")]
    [InlineData(24, 5, 5, 3, 25, 0.3, "judgementWindowSize is 25; judgementWindowSize must be in [1, windowSize] = [1, 24]")]
    [InlineData(64, 5, 5, 3, 21, 0.0, "threshold is 0; threshold must be in (0, 1), both ends excluded")]
    [InlineData(64, 5, 5, 3, 21, 1.0, "threshold is 1; threshold must be in (0, 1), both ends excluded")]
    [InlineData(64, 5, 5, 3, 21, double.NaN, "threshold is NaN; threshold must be in (0, 1)")]
    public void Constructor_OutOfRangeParameter_ThrowsNamingParameterValueAndRange(int w, int b, int l, int a, int j, double threshold, string message)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new SrStreamingDetector(w, b, l, a, j, threshold));
        Assert.StartsWith(message, ex.Message, StringComparison.Ordinal);
        Assert.Equal(message.Split(' ')[0], ex.ParamName);
    }

    [Fact]
    public void Constants_MatchTheSpecDefaults()
    {
        Assert.Equal(64, SrStreamingDetector.DefaultWindowSize);
        Assert.Equal(24, SrStreamingDetector.OptionsDefaultWindowSize);
        var d = new SrStreamingDetector();
        Assert.Equal((64, 5, 5, 3, 21, 0.3), (d.WindowSize, d.BackAddWindowSize, d.LookaheadWindowSize, d.AveragingWindowSize, d.JudgementWindowSize, d.Threshold));
    }

    [Fact]
    public void Extrapolate_LinearAndStepWindows_MatchSpecFormula()
    {
        // Linear: ĝ lands exactly on the current point.
        Assert.Equal(7, SaliencyMap.Extrapolate([1, 2, 3, 4, 5, 6, 7], 5), 12);

        // y_0..y_5 = 0,0,0,0,0,1: ĝ = y_1 + 1/5 + 1/4 + 1/3 + 1/2 + 1/1 = 137/60.
        Assert.Equal(137.0 / 60, SaliencyMap.Extrapolate([0, 0, 0, 0, 0, 1, 99], 5), 12);

        // Lookahead longer than the window allows is cut to n − 2; no room at all gives the last value.
        Assert.Equal(SaliencyMap.Extrapolate([1, 4, 9, 16], 2), SaliencyMap.Extrapolate([1, 4, 9, 16], 4));
        Assert.Equal(5, SaliencyMap.Extrapolate([3, 5], 1));
    }

    internal static IEnumerable<double[]> TestSeries(Random random)
    {
        double[] Make(int n, Func<int, double> f)
        {
            var a = new double[n];
            for (var i = 0; i < n; i++)
            {
                a[i] = f(i);
            }

            return a;
        }

        yield return Make(150, _ => random.NextDouble() * 2 - 1);
        yield return Make(150, _ => 0);
        yield return Make(150, _ => 5);
        yield return Make(150, _ => -1e-7);
        yield return Make(150, i => i % 2 == 0 ? 1 : -1);
        yield return Make(150, i => i < 80 ? 3 : 4);
        yield return Make(150, i => i);
        yield return Make(150, _ => (random.NextDouble() - 0.5) * 1e300);
        yield return Make(150, _ => random.NextDouble() * 1e-300);
        yield return Make(150, i => i == 90 ? 1e300 : 1e-300);
        yield return Make(150, _ => Math.Round(random.NextDouble()) * 1e6);
    }
}
