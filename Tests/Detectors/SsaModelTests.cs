using AnomalyZT.Grains.Detectors.TimeSeries;

namespace AnomalyZT.Tests.Detectors;

public sealed class SsaModelTests
{
    [Theory]
    [InlineData(20, 10)]
    [InlineData(6, 3)]
    [InlineData(2, 2)]
    public void Constructor_TrainingNotAboveTwiceSeasonality_ThrowsNamingBoth(int training, int seasonality)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new SsaModel(training, seasonality));
        Assert.Contains("trainingWindowSize is " + training, ex.Message, StringComparison.Ordinal);
        Assert.Contains("seasonalityWindowSize", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new SsaSpikeDetector(trainingWindowSize: training, seasonalityWindowSize: seasonality));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SsaChangePointDetector(trainingWindowSize: training, seasonalityWindowSize: seasonality));
    }

    [Fact]
    public void Constructor_SeasonalityBelowTwo_Throws()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new SsaModel(100, 1));
        Assert.Contains("seasonalityWindowSize is 1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_TwoLOrFewerFiniteValues_UntrainedForecastsZero()
    {
        var model = new SsaModel(100, 10);
        Assert.False(model.IsTrained);
        Assert.Equal(0, model.Forecast);

        // 30 rows, but only 20 = 2L finite ones.
        var series = SsaSeries.Sine(30, 10, 5, 0, seed: 1);
        for (var i = 0; i < 30; i += 3)
        {
            series[i] = double.NaN;
        }

        model.Train(series);
        Assert.False(model.IsTrained);
        model.Consume(7);
        Assert.Equal(0, model.Forecast);
        Assert.Equal(0, model.Rank);
    }

    [Fact]
    public void Train_NoisySinePeriod10_ForecastErrorBelowTenthOfAmplitude()
    {
        const double amplitude = 3;
        var series = SsaSeries.Sine(400, 10, amplitude, 0.01, seed: 7);
        var model = new SsaModel(100, 10);
        model.Train(series);
        Assert.True(model.IsTrained);
        Assert.InRange(model.Rank, 2, 5);

        var worst = 0.0;
        for (var t = 100; t < series.Length; t++)
        {
            worst = Math.Max(worst, Math.Abs(series[t] - model.Forecast));
            model.Consume(series[t]);
        }

        Assert.True(worst < 0.1 * amplitude, $"worst forecast error {worst}");
    }

    [Theory]
    [InlineData(0.0, 2)]
    [InlineData(5.0, 3)]
    public void Train_ExactLowRankSeries_PicksItsRankAndAlphaReproducesIt(double offset, int rank)
    {
        // A sampled sine is rank 2, a sine plus a constant rank 3; higher ranks only add numerically null directions.
        var x = SsaSeries.Sine(100, 10, 1, 0, seed: 1);
        for (var t = 0; t < x.Length; t++)
        {
            x[t] += offset;
        }

        var model = new SsaModel(100, 10);
        model.Train(x);
        Assert.Equal(rank, model.Rank);
        for (var t = 0; t + 9 < x.Length; t++)
        {
            var lrf = 0.0;
            for (var j = 0; j < 9; j++)
            {
                lrf += model.Alpha[j] * x[t + j];
            }

            Assert.Equal(x[t + 9], lrf, 1e-9);
        }
    }

    [Fact]
    public void Consume_MatchesSpecOnlineStepWrittenOut()
    {
        var x = SsaSeries.Sine(160, 10, 1, 0.2, seed: 12);
        var model = new SsaModel(100, 10);
        model.Train(x);
        var l = model.WindowSize;
        var r = model.Rank;
        var u = model.Basis.ToArray();
        var alpha = model.Alpha.ToArray();
        var s = model.State.ToArray();
        var observed = new List<double>();
        for (var t = 100; t < x.Length; t++)
        {
            // w = [last L−1 observations, state values standing in for positions not yet observed, v].
            var w = new double[l];
            var fromState = Math.Max(0, l - 1 - observed.Count);
            for (var i = 0; i < l - 1; i++)
            {
                w[i] = i < fromState ? s[i] : observed[observed.Count - (l - 1) + i];
            }

            w[l - 1] = x[t];
            var z = new double[l];
            for (var i = 0; i < l; i++)
            {
                for (var c = 0; c < r; c++)
                {
                    for (var k = 0; k < l; k++)
                    {
                        z[i] += u[(c * l) + i] * u[(c * l) + k] * w[k];
                    }
                }
            }

            var next = new double[l - 1];
            for (var k = 0; k < l - 2; k++)
            {
                next[k] = (((l - 2 - k) * s[k + 1]) + z[k + 1]) / (l - 1 - k);
            }

            next[l - 2] = z[l - 1];
            s = next;
            observed.Add(x[t]);
            var forecast = 0.0;
            for (var k = 0; k < l - 1; k++)
            {
                forecast += alpha[k] * s[k];
            }

            model.Consume(x[t]);
            for (var k = 0; k < l - 1; k++)
            {
                Assert.Equal(s[k], model.State[k], 1e-12);
            }

            Assert.Equal(forecast, model.Forecast, 1e-12);
        }
    }

    [Fact]
    public void Train_ConstantSeries_ForecastsTheConstant()
    {
        var series = new double[100];
        Array.Fill(series, 4.25);
        var model = new SsaModel(100, 10);
        model.Train(series);
        for (var i = 0; i < 30; i++)
        {
            Assert.Equal(4.25, model.Forecast, 1e-9);
            model.Consume(4.25);
        }
    }

    [Fact]
    public void Train_AllZero_UnitLastComponentShrinksWindowToNaive()
    {
        var model = new SsaModel(50, 10);
        model.Train(new double[50]);
        Assert.True(model.IsTrained);
        Assert.Equal(2, model.WindowSize);
        Assert.Equal(1, model.Rank);
        Assert.Equal(1.0, model.Alpha[0], 1e-12);
        model.Consume(3);

        // Naive rank-1 model at L = 2: ŷ is the mean of the state value (0) and the observation.
        Assert.Equal(1.5, model.Forecast, 1e-12);
    }

    [Fact]
    public void Consume_NonFinite_LeavesStateUnchanged()
    {
        var series = SsaSeries.Sine(150, 10, 1, 0.05, seed: 3);
        var model = new SsaModel(100, 10);
        model.Train(series);
        for (var t = 100; t < 105; t++)
        {
            model.Consume(series[t]);
        }

        var state = model.State.ToArray();
        var forecast = model.Forecast;
        model.Consume(double.NaN);
        model.Consume(double.PositiveInfinity);
        Assert.Equal(state, model.State.ToArray());
        Assert.Equal(forecast, model.Forecast);
    }

    [Fact]
    public void WriteRead_MidStream_ForecastsBitIdentical()
    {
        var series = SsaSeries.Sine(200, 10, 2, 0.1, seed: 11);
        var model = new SsaModel(100, 10);
        model.Train(series);
        for (var t = 100; t < 104; t++)
        {
            model.Consume(series[t]);
        }

        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            model.Write(w);
        }

        ms.Position = 0;
        var copy = new SsaModel(100, 10);
        using (var r = new BinaryReader(ms))
        {
            copy.Read(r);
        }

        Assert.Equal(model.Rank, copy.Rank);
        for (var t = 104; t < series.Length; t++)
        {
            Assert.Equal(BitConverter.DoubleToInt64Bits(model.Forecast), BitConverter.DoubleToInt64Bits(copy.Forecast));
            model.Consume(series[t]);
            copy.Consume(series[t]);
        }
    }
}
