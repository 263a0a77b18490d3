using AnomalyZT.Grains.Detectors.SpectralResidual;

namespace AnomalyZT.Tests.Detectors;

public sealed class DftTests
{
    [Fact]
    public void Forward_EveryLength1To200_MatchesNaiveDft()
    {
        var random = new Random(20240501);
        var worst = 0.0;
        for (var n = 1; n <= 200; n++)
        {
            var (re, im) = RandomRow(random, n);
            var (expectedRe, expectedIm) = NaiveDft(re, im, inverse: false);
            Dft.Forward(new DftPlan(n), re, im);
            worst = Math.Max(worst, RelativeError(re, im, expectedRe, expectedIm));
        }

        Assert.True(worst < 1e-9, $"worst relative error {worst:E3}");
    }

    [Theory]
    [InlineData(509)]
    [InlineData(1000)]
    [InlineData(1024)]
    [InlineData(2047)]
    public void Forward_LargerLengths_MatchNaiveDft(int n)
    {
        var (re, im) = RandomRow(new Random(n), n);
        var (expectedRe, expectedIm) = NaiveDft(re, im, inverse: false);
        Dft.Forward(new DftPlan(n), re, im);
        Assert.True(RelativeError(re, im, expectedRe, expectedIm) < 1e-11);
    }

    [Fact]
    public void Inverse_EveryLength1To200_MatchesNaiveNormalisedInverse()
    {
        var random = new Random(7);
        for (var n = 1; n <= 200; n++)
        {
            var (re, im) = RandomRow(random, n);
            var (expectedRe, expectedIm) = NaiveDft(re, im, inverse: true);
            Dft.Inverse(new DftPlan(n), re, im);
            Assert.True(RelativeError(re, im, expectedRe, expectedIm) < 1e-9, $"n = {n}");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(69)]
    [InlineData(97)]
    [InlineData(256)]
    [InlineData(4099)]
    public void Inverse_OfForward_ReturnsInput(int n)
    {
        var (re, im) = RandomRow(new Random(n * 31), n);
        var (copyRe, copyIm) = ((double[])re.Clone(), (double[])im.Clone());
        var plan = new DftPlan(n);
        Dft.Forward(plan, re, im);
        Dft.Inverse(plan, re, im);
        Assert.True(RelativeError(re, im, copyRe, copyIm) < 1e-12);
    }

    [Fact]
    public void Forward_UnitImpulse_GivesFlatSpectrum()
    {
        var re = new double[7];
        var im = new double[7];
        re[0] = 1;
        Dft.Forward(new DftPlan(7), re, im);
        foreach (var v in re)
        {
            Assert.Equal(1, v, 14);
        }

        foreach (var v in im)
        {
            Assert.Equal(0, v, 14);
        }
    }

    [Fact]
    public void Forward_RepeatedCallsOnOnePlan_AllocateNothing()
    {
        var plan = new DftPlan(69);
        var (re, im) = RandomRow(new Random(1), 69);
        Dft.Forward(plan, re, im);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            Dft.Forward(plan, re, im);
            Dft.Inverse(plan, re, im);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Forward_RowLengthDiffersFromPlan_ThrowsNamingBothLengths()
    {
        var ex = Assert.Throws<ArgumentException>(() => Dft.Forward(new DftPlan(8), new double[7], new double[8]));
        Assert.Contains("7 and 8", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DftPlan_ZeroLength_ThrowsWithRange()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new DftPlan(0));
        Assert.Contains("length is 0; length must be in [1,", ex.Message, StringComparison.Ordinal);
    }

    internal static (double[] Re, double[] Im) RandomRow(Random random, int n)
    {
        var re = new double[n];
        var im = new double[n];
        for (var i = 0; i < n; i++)
        {
            re[i] = random.NextDouble() * 2 - 1;
            im[i] = random.NextDouble() * 2 - 1;
        }

        return (re, im);
    }

    /// <summary>O(n²) reference; the angle uses (j·k mod n) so it is as accurate as the library's twiddles.</summary>
    internal static (double[] Re, double[] Im) NaiveDft(double[] re, double[] im, bool inverse)
    {
        var n = re.Length;
        var outRe = new double[n];
        var outIm = new double[n];
        var sign = inverse ? 1.0 : -1.0;
        for (var k = 0; k < n; k++)
        {
            double sr = 0, si = 0;
            for (var j = 0; j < n; j++)
            {
                var angle = sign * 2 * Math.PI * ((long)j * k % n) / n;
                var (c, s) = (Math.Cos(angle), Math.Sin(angle));
                sr += re[j] * c - im[j] * s;
                si += re[j] * s + im[j] * c;
            }

            outRe[k] = inverse ? sr / n : sr;
            outIm[k] = inverse ? si / n : si;
        }

        return (outRe, outIm);
    }

    /// <summary>max_k |X_k − Y_k| / max_k |Y_k|.</summary>
    private static double RelativeError(double[] re, double[] im, double[] expectedRe, double[] expectedIm)
    {
        double error = 0, scale = 0;
        for (var k = 0; k < re.Length; k++)
        {
            error = Math.Max(error, Math.Sqrt(Math.Pow(re[k] - expectedRe[k], 2) + Math.Pow(im[k] - expectedIm[k], 2)));
            scale = Math.Max(scale, Math.Sqrt(expectedRe[k] * expectedRe[k] + expectedIm[k] * expectedIm[k]));
        }

        return error / scale;
    }
}
