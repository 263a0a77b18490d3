using AnomalyZT.Grains.Detectors.SpectralResidual;

namespace AnomalyZT.Tests.Detectors;

public sealed class SeasonalityDetectorTests
{
    [Theory]
    [InlineData(480)]
    [InlineData(500)]
    [InlineData(1000)]
    public void Detect_NoisySinePeriod24_Returns24(int n)
    {
        var random = new Random(24);
        var series = Sine(n, 24, 1).Zip(SrBatchDetectorTests.Noisy(random, n, 0, 0.5), (a, b) => a + b).ToArray();
        Assert.Equal(24, SeasonalityDetector.Detect(series));
    }

    [Fact]
    public void Detect_WhiteNoise_ReturnsMinusOne()
    {
        Assert.Equal(-1, SeasonalityDetector.Detect(SrBatchDetectorTests.Noisy(new Random(42), 500, 0, 1)));

        // The randomness test runs at 95 %, after an argmax over a few lags: most noise series must pass it.
        var found = 0;
        for (var seed = 0; seed < 50; seed++)
        {
            found += SeasonalityDetector.Detect(SrBatchDetectorTests.Noisy(new Random(seed), 500, 0, 1)) == -1 ? 0 : 1;
        }

        Assert.True(found <= 10, $"{found} of 50 noise series reported a period");
    }

    [Fact]
    public void Detect_WindowSize_UsesOnlyTheFirstValues()
    {
        var series = Sine(400, 10, 1).Concat(Sine(1600, 50, 1)).ToArray();
        Assert.Equal(10, SeasonalityDetector.Detect(series, seasonalityWindowSize: 400));
        Assert.Equal(-1, SeasonalityDetector.Detect(series, seasonalityWindowSize: 3));
    }

    [Fact]
    public void Detect_PeriodAbove400OrShortSeries_ReturnsMinusOne()
    {
        Assert.Equal(-1, SeasonalityDetector.Detect(Sine(4000, 500, 1)));
        Assert.Equal(-1, SeasonalityDetector.Detect(Sine(100, 24, 1)));
        Assert.Equal(-1, SeasonalityDetector.Detect(new double[300]));
    }

    [Theory]
    [InlineData(0, 0.95, "seasonalityWindowSize is 0; seasonalityWindowSize must be -1 (all values) or positive")]
    [InlineData(-1, 1.0, "randomnessThreshold is 1; randomnessThreshold must be in (0, 1)")]
    [InlineData(-1, 0.0, "randomnessThreshold is 0; randomnessThreshold must be in (0, 1)")]
    public void Detect_OutOfRangeParameter_ThrowsNamingParameterValueAndRange(int window, double threshold, string message)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => SeasonalityDetector.Detect(new double[50], window, threshold));
        Assert.StartsWith(message, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.5, 0)]
    [InlineData(0.95, 1.6448536269514722)]
    [InlineData(0.975, 1.959963984540054)]
    [InlineData(0.999, 3.090232306167813)]
    [InlineData(0.01, -2.3263478740408408)]
    [InlineData(1e-10, -6.361340902404056)]
    public void NormalQuantile_KnownValues_AccurateTo1e12(double p, double expected)
    {
        Assert.Equal(expected, NormalQuantile.Inverse(p), 12);
        Assert.True(Math.Abs(NormalQuantile.Acklam(p) - expected) < 1.2e-9 * Math.Max(1, Math.Abs(expected)));
    }

    [Theory]
    [InlineData(0.5, 0.4795001221869535)]
    [InlineData(1, 0.15729920705028513)]
    [InlineData(2.4, 6.885138966450786e-4)]
    [InlineData(3, 2.209049699858544e-05)]
    [InlineData(6, 2.151973671249892e-17)]
    public void Erfc_KnownValues_RelativeErrorBelow1e13(double x, double expected) =>
        Assert.True(Math.Abs(NormalQuantile.Erfc(x) / expected - 1) < 1e-13, $"erfc({x}) = {NormalQuantile.Erfc(x)}");

    private static double[] Sine(int n, int period, double amplitude) =>
        Enumerable.Range(0, n).Select(i => amplitude * Math.Sin(2 * Math.PI * i / period)).ToArray();
}
