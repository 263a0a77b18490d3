using AnomalyZT.Silo.Nab;

namespace AnomalyZT.Tests.Nab;

public sealed class NoveltyNabDetectorTests
{
    [Fact]
    public void Score_NoisySeasonalSeriesWithSpike_StaysInUnitIntervalAndFlagsTheSpike()
    {
        var values = Seasonal(3000, seed: 7);
        values[2500] = 40;
        var scores = Run(new NoveltyNabDetector(), values);
        Assert.All(scores, s => Assert.True(double.IsFinite(s) && s is >= 0 and <= 1, s.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.True(scores[2500] > 0.9, $"spike scored {scores[2500]}");
        Assert.True(scores[2500] > scores.Skip(1000).Take(1400).Max(), "the spike must outscore the quiet stretch before it");
    }

    [Fact]
    public void Score_MissingDailyPeak_FlaggedByTheSeasonalPart()
    {
        var values = Seasonal(3000, seed: 5);
        for (var i = 2350; i <= 2400; i++)
        {
            values[i] = 10.5;
        }

        var withSeason = Run(new NoveltyNabDetector(), values);
        var without = Run(new NoveltyNabDetector(new NoveltyOptions { MaxPeriod = 0 }), values);
        Assert.All(withSeason, s => Assert.True(double.IsFinite(s) && s is >= 0 and <= 1));
        var flagged = withSeason.Skip(2350).Take(51).Max();
        Assert.True(flagged > 0.8, $"the missing peak scored {flagged}");
        Assert.True(flagged > withSeason.Skip(1600).Take(700).Max(), "the missing peak must outscore the normal days before it");
        Assert.True(flagged > without.Skip(2350).Take(51).Max(), "the seasonal part must add evidence");
    }

    [Fact]
    public void Score_RoutineBursts_EarnLessThanAFirstBurst()
    {
        var rng = new Random(11);
        var values = new double[4000];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = 10 + rng.NextDouble() + (i % 500 == 250 ? 30 : 0);
        }

        var attenuated = Run(new NoveltyNabDetector(new NoveltyOptions { MaxPeriod = 0 }), values);
        var plain = Run(new NoveltyNabDetector(new NoveltyOptions { MaxPeriod = 0, ExcessPower = 0 }), values);
        Assert.All(attenuated, s => Assert.True(double.IsFinite(s) && s is >= 0 and <= 1));
        Assert.True(attenuated.Sum() <= plain.Sum(), "attenuation never adds evidence");
    }

    [Fact]
    public void Score_RiseHiddenFromTheRecentRange_FlaggedByTheQuantilePart()
    {
        // A spike early on keeps the recent [min, max] wide, so only the quantile part sees the later, smaller rise.
        var rng = new Random(13);
        var values = new double[700];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = 10 + rng.NextDouble();
        }

        values[160] = 40;
        values[450] = 14;
        var with = Run(new NoveltyNabDetector(new NoveltyOptions { MaxPeriod = 0 }), values);
        var without = Run(new NoveltyNabDetector(new NoveltyOptions { MaxPeriod = 0, QuantileRows = 0 }), values);
        Assert.All(with, s => Assert.True(double.IsFinite(s) && s is >= 0 and <= 1));
        Assert.True(with[450] > 0.6, $"the rise scored {with[450]}");
        Assert.True(with[450] > with.Skip(200).Take(240).Max(), "the rise must outscore the quiet stretch before it");
        Assert.True(without[450] < 0.5, $"without the quantile part the rise scored {without[450]}");
    }

    [Fact]
    public void Score_SustainedRiseWithinTheSpikeRange_FlaggedByTheLevelPart()
    {
        // Early spikes make the range wide, so the later rise of the level to 12 stays inside every range; only the
        // median of the last rows goes somewhere it never went before.
        var rng = new Random(17);
        var values = new double[900];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = 10 + rng.NextDouble() + (i >= 700 ? 2 : 0);
        }

        values[100] = 30;
        values[300] = 30;
        var options = new NoveltyOptions { MaxPeriod = 0, QuantileRows = 0 };
        var with = Run(new NoveltyNabDetector(options), values);
        var without = Run(new NoveltyNabDetector(options with { LevelRows = 0 }), values);
        var flagged = with.Skip(700).Take(20).Max();
        Assert.True(flagged > 0.6, $"the rise scored {flagged}");
        Assert.True(flagged > with.Skip(400).Take(290).Max(), "the rise must outscore the steady stretch before it");
        Assert.True(without.Skip(700).Take(20).Max() < 0.5, "without the level part the rise must stay below a detection");
    }

    [Fact]
    public void Score_RecordLongFlatRun_FlaggedOnceByTheFlatPart()
    {
        // A counter that idles at 0 for 40 to 60 rows at a time, then goes silent for 400 rows.
        var rng = new Random(19);
        var values = new List<double>();
        while (values.Count < 1500)
        {
            values.AddRange(Enumerable.Repeat(0.0, 40 + rng.Next(21)));
            for (var k = 0; k < 30; k++)
            {
                values.Add(1 + rng.NextDouble());
            }
        }

        var silenceStart = values.Count;
        values.AddRange(Enumerable.Repeat(0.0, 400));
        var options = new NoveltyOptions { MaxPeriod = 0 };
        var with = Run(new NoveltyNabDetector(options), values.ToArray());
        var without = Run(new NoveltyNabDetector(options with { FlatFactor = 0 }), values.ToArray());
        var silence = with.Skip(silenceStart).ToArray();
        Assert.True(silence.Max() > 0.6, $"the silence scored {silence.Max()}");
        Assert.Single(silence, s => s > 0.6);
        Assert.True(without.Skip(silenceStart).Max() < 0.5, "without the flat part the silence must stay below a detection");
    }

    [Fact]
    public void Score_FlatFromTheFirstRow_NeverFlagged()
    {
        var scores = Run(new NoveltyNabDetector(), Enumerable.Repeat(45.0, 2000).ToArray());
        Assert.All(scores, s => Assert.Equal(0, s));
    }

    [Fact]
    public void Score_SameInput_SameScores()
    {
        var values = Seasonal(2000, seed: 3);
        values[1500] = -30;
        Assert.Equal(Run(new NoveltyNabDetector(), values), Run(new NoveltyNabDetector(), values));
    }

    [Fact]
    public void Score_WarmupRows_ScoreZero()
    {
        var values = Seasonal(400, seed: 1);
        var scores = Run(new NoveltyNabDetector(new NoveltyOptions { Warmup = 200 }), values);
        Assert.All(scores.Take(200), s => Assert.Equal(0, s));
    }

    [Fact]
    public void Score_FlatThenNonFiniteAndExtremeValues_NeverEscapesUnitInterval()
    {
        var d = new NoveltyNabDetector();
        double[] tail = [double.NaN, double.PositiveInfinity, 1e300, -1e300, double.NegativeInfinity, 5, 1e-300];
        var values = Enumerable.Repeat(5.0, 300).Concat(tail).Concat(Enumerable.Repeat(5.0, 50)).ToArray();
        foreach (var s in Run(d, values))
        {
            Assert.True(double.IsFinite(s) && s is >= 0 and <= 1);
        }
    }

    [Fact]
    public void Options_OutOfRange_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new NoveltyNabDetector(new NoveltyOptions { Blocks = 11 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new NoveltyNabDetector(new NoveltyOptions { Levels = 64 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new NoveltyNabDetector(new NoveltyOptions { ContextCut = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new NoveltyNabDetector(new NoveltyOptions { SeasonalCut = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new NoveltyNabDetector(new NoveltyOptions { MinAutocorrelation = 1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new NoveltyNabDetector(new NoveltyOptions { PeriodEvery = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new NoveltyNabDetector(new NoveltyOptions { QuantileRows = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new NoveltyNabDetector(new NoveltyOptions { Quantile = 1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new NoveltyNabDetector(new NoveltyOptions { QuantileCut = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new NoveltyNabDetector(new NoveltyOptions { LevelRows = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new NoveltyNabDetector(new NoveltyOptions { LevelCut = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new NoveltyNabDetector(new NoveltyOptions { FlatFactor = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new NoveltyNabDetector(new NoveltyOptions { FlatRows = 0 }));
    }

    [Fact]
    public async Task Run_NoveltyOnCorpusSubset_BeatsTheNullDetector()
    {
        var corpus = NabCorpus.Load(NabTestData.Root, NabTestData.Subset);
        var settings = new AnomalyZT.Grains.Config.NabSettings { Detector = "novelty" };
        var report = await NabRunner.RunAsync(corpus, NabDetectors.Factory(settings), "novelty", null, TestContext.Current.CancellationToken);
        Assert.True(report["standard"].NormalizedScore > 0, report.ToString());
    }

    private static double[] Seasonal(int n, int seed)
    {
        var rng = new Random(seed);
        var values = new double[n];
        for (var i = 0; i < n; i++)
        {
            values[i] = 10 + (5 * Math.Sin(2 * Math.PI * i / 288)) + rng.NextDouble();
        }

        return values;
    }

    private static double[] Run(NoveltyNabDetector detector, double[] values)
    {
        var scores = new double[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            scores[i] = detector.Score(NabTestData.Epoch.AddMinutes(5 * i), values[i]);
        }

        return scores;
    }
}
