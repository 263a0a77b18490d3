using AnomalyZT.Grains.Detectors.SpectralResidual;

namespace AnomalyZT.Tests.Detectors;

public sealed class SrMarginTableTests
{
    [Theory]
    [InlineData(0, 532)]
    [InlineData(24, 32.8)]
    [InlineData(25, 30)]
    [InlineData(50, 3)]
    [InlineData(60, 0.8)]
    [InlineData(70, 0.45)]
    [InlineData(80, 0.225)]
    [InlineData(90, 0.09093)]
    [InlineData(93, 0.043636)]
    [InlineData(99, 0.0003)]
    [InlineData(100, 0)]
    public void Factor_KeyValues_MatchSpec(double sensitivity, double expected) =>
        Assert.Equal(expected, SrMarginTable.Factor(sensitivity), 9);

    [Fact]
    public void Factor_FractionalSensitivity_InterpolatesLinearly()
    {
        Assert.Equal(0.5 * (SrMarginTable.Factor(92) + SrMarginTable.Factor(93)), SrMarginTable.Factor(92.5), 12);
        Assert.Equal(0.75 * SrMarginTable.Factor(10) + 0.25 * SrMarginTable.Factor(11), SrMarginTable.Factor(10.25), 12);
    }

    [Fact]
    public void Factor_WholeRange_StrictlyDecreasing()
    {
        for (var s = 0; s < 100; s++)
        {
            Assert.True(SrMarginTable.Factor(s) > SrMarginTable.Factor(s + 1), $"F({s}) ≤ F({s + 1})");
        }
    }

    [Fact]
    public void Score_InverseOfTheTable()
    {
        for (var s = 0; s <= 100; s++)
        {
            Assert.Equal(s / 100.0, SrMarginTable.Score(SrMarginTable.Factor(100 - s)), 12);
        }

        // Half-way between F(50) = 3 and F(49) = 3.4 (s = 50 → 51) scores 0.505.
        Assert.Equal(0.505, SrMarginTable.Score(3.2), 12);
        Assert.Equal(0, SrMarginTable.Score(0));
        Assert.Equal(1, SrMarginTable.Score(10_000));
    }
}
