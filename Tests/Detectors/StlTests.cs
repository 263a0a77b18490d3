using AnomalyZT.Grains.Detectors.SpectralResidual;

namespace AnomalyZT.Tests.Detectors;

public sealed class StlTests
{
    [Fact]
    public void TryResidual_SeasonPlusTrend_LeavesSmallResidual()
    {
        var series = Enumerable.Range(0, 240).Select(i => 3 * Math.Sin(2 * Math.PI * i / 12) + 0.05 * i).ToArray();
        var residual = new double[series.Length];
        Assert.True(Stl.TryResidual(series, 12, residual));
        Assert.All(residual[12..^12], r => Assert.InRange(r, -0.05, 0.05));
    }

    [Fact]
    public void TryResidual_SpikeOnSeason_KeepsMostOfTheSpikeInTheResidual()
    {
        var series = Enumerable.Range(0, 240).Select(i => 3 * Math.Sin(2 * Math.PI * i / 12)).ToArray();
        series[125] += 5;
        var residual = new double[series.Length];
        Assert.True(Stl.TryResidual(series, 12, residual));
        Assert.InRange(residual[125], 3, 5);
        Assert.Equal(125, Array.IndexOf(residual, residual.Max()));
    }

    [Theory]
    [InlineData(1, 240)]
    [InlineData(12, 23)]
    public void TryResidual_PeriodBelowTwoOrUnderTwoCycles_ReturnsFalse(int period, int length)
    {
        var series = Enumerable.Range(0, length).Select(i => Math.Sin(i)).ToArray();
        Assert.False(Stl.TryResidual(series, period, new double[length]));
    }
}
