using AnomalyZT.Grains.Detectors.TimeSeries;

namespace AnomalyZT.Tests.Detectors;

public sealed class SsaEigenTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(10)]
    [InlineData(37)]
    [InlineData(120)]
    public void TryDecomposeSymmetric_RandomSymmetric_EigenpairsOrthonormalAndSorted(int n)
    {
        var rng = new Random(1000 + n);
        var a = new double[n * n];
        for (var i = 0; i < n; i++)
        {
            for (var j = i; j < n; j++)
            {
                a[(i * n) + j] = a[(j * n) + i] = (rng.NextDouble() * 2) - 1;
            }
        }

        AssertDecomposes(a, n);
    }

    [Fact]
    public void TryDecomposeSymmetric_RepeatedZeroAndRankOneSpectra_StillExact()
    {
        var diag = new double[16];
        double[] d = [3, 1, 3, 0];
        for (var i = 0; i < 4; i++)
        {
            diag[(i * 4) + i] = d[i];
        }

        var values = AssertDecomposes(diag, 4);
        Assert.Equal([3.0, 3.0, 1.0, 0.0], values);

        AssertDecomposes(new double[25], 5);

        // A constant matrix is rank one: eigenvalue n·c, the rest zero.
        var ones = new double[36];
        Array.Fill(ones, 2.5);
        var rankOne = AssertDecomposes(ones, 6);
        Assert.Equal(15.0, rankOne[0], 1e-12);
        Assert.All(rankOne[1..], v => Assert.True(Math.Abs(v) < 1e-12, $"eigenvalue {v} should vanish"));
    }

    private static double[] AssertDecomposes(double[] a, int n)
    {
        var original = (double[])a.Clone();
        var values = new double[n];
        var vectors = new double[n * n];
        Assert.True(SsaModel.TryDecomposeSymmetric(a, n, values, vectors));
        var scale = 1.0;
        foreach (var x in original)
        {
            scale = Math.Max(scale, Math.Abs(x));
        }

        var tol = 1e-10 * scale * n;
        for (var i = 0; i < n; i++)
        {
            if (i > 0)
            {
                Assert.True(values[i - 1] >= values[i], $"values not sorted at {i}: {values[i - 1]} < {values[i]}");
            }

            for (var row = 0; row < n; row++)
            {
                var av = 0.0;
                for (var k = 0; k < n; k++)
                {
                    av += original[(row * n) + k] * vectors[(i * n) + k];
                }

                Assert.True(Math.Abs(av - (values[i] * vectors[(i * n) + row])) < tol, $"A·v ≠ λ·v for pair {i}, row {row}");
            }

            for (var j = 0; j <= i; j++)
            {
                var dot = 0.0;
                for (var k = 0; k < n; k++)
                {
                    dot += vectors[(i * n) + k] * vectors[(j * n) + k];
                }

                Assert.True(Math.Abs(dot - (i == j ? 1 : 0)) < 1e-10 * n, $"vectors {i}, {j} not orthonormal: {dot}");
            }
        }

        return values;
    }
}
