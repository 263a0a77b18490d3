using AnomalyZT.Silo.Nab;
using static AnomalyZT.Tests.Nab.NabTestData;

namespace AnomalyZT.Tests.Nab;

// Hand-computed cases use σ(y) = 2/(1 + e^{5y}) − 1 = −tanh(2.5·y), so σ(−1) = tanh 2.5 = 0.986614298.
// The tiny file: 100 rows one minute apart, probation ⌊0.15·100⌋ = 15 rows, one window on rows 40..49
// (width W = 10). A detection is an anomaly score of 1 against threshold 0.5.
public sealed class NabScorerTests
{
    private static readonly NabWindow[] OneWindow = [Window(40, 49)];

    private static double Standard(params int[] rows) => RawAt(NabProfile.Standard, rows);

    private static double RawAt(NabProfile profile, params int[] rows)
    {
        var detections = new (int, double)[rows.Length];
        for (var i = 0; i < rows.Length; i++)
        {
            detections[i] = (rows[i], 1.0);
        }

        return NabScorer.ScoreAt([FileScores("tiny.csv", 100, OneWindow, detections)], profile, 0.5).RawScore;
    }

    [Theory]
    [InlineData(-1.0, 0.986614298)]
    [InlineData(-0.5, 0.848283640)] // tanh 1.25
    [InlineData(0.0, 0.0)]
    [InlineData(1.0, -0.986614298)]
    [InlineData(3.0, -0.999999389)] // −tanh 7.5, still on the curve at exactly 3
    [InlineData(3.0001, -1.0)]
    [InlineData(50.0, -1.0)]
    public void ScaledSigmoid_PublishedPoints_Match(double y, double expected)
    {
        Assert.Equal(expected, NabScorer.ScaledSigmoid(y), 8);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(100, 15)]
    [InlineData(1127, 169)] // ⌊169.05⌋
    [InlineData(4999, 749)] // ⌊749.85⌋
    [InlineData(5000, 750)]
    [InlineData(22695, 750)] // capped at 0.15·5000
    public void ProbationLength_FifteenPercentCappedAt750(int rows, int expected)
    {
        Assert.Equal(expected, NabScorer.ProbationLength(rows));
    }

    [Fact]
    public void ScoreAt_DetectionAtWindowStart_ScoresATp()
    {
        // y = −(49 − 40 + 1)/10 = −1 → σ(−1)/σ(−1) = 1.
        Assert.Equal(1.0, Standard(40), 12);
    }

    [Fact]
    public void ScoreAt_DetectionMidWindow_ScoresSigmoidOfMinusHalf()
    {
        // y = −(49 − 45 + 1)/10 = −0.5 → tanh 1.25 / tanh 2.5 = 0.848283640 / 0.986614298 = 0.859792567.
        Assert.Equal(0.859792567, Standard(45), 8);
    }

    [Fact]
    public void ScoreAt_DetectionAtWindowEnd_ScoresSigmoidOfMinusOneTenth()
    {
        // y = −(49 − 49 + 1)/10 = −0.1 → tanh 0.25 / tanh 2.5 = 0.244918662 / 0.986614298 = 0.248241550.
        Assert.Equal(0.248241550, Standard(49), 8);
    }

    [Fact]
    public void ScoreAt_TwoDetectionsInWindow_OnlyTheFirstCounts()
    {
        // Row 42: y = −8/10 → tanh 2 / tanh 2.5 = 0.964027580 / 0.986614298 = 0.977106841; row 45 adds nothing.
        Assert.Equal(0.977106841, Standard(42, 45), 8);
    }

    [Fact]
    public void ScoreAt_DetectionJustAfterWindow_IsWeightedFalsePositivePlusMissedWindow()
    {
        // Row 50: y = (50 − 49)/(10 − 1) = 1/9 → σ = −tanh(2.5/9) = −0.270847119; × A_FP 0.11 = −0.029793183;
        // the window is missed: −A_FN = −1. Total −1.029793183.
        Assert.Equal(-1.029793183, Standard(50), 8);
        // reward_low_FP: × 0.22 = −0.059586366, −1 → −1.059586366.
        Assert.Equal(-1.059586366, RawAt(NabProfile.RewardLowFalsePositives, 50), 8);
        // reward_low_FN: × 0.11 = −0.029793183, −2 → −2.029793183.
        Assert.Equal(-2.029793183, RawAt(NabProfile.RewardLowFalseNegatives, 50), 8);
    }

    [Fact]
    public void ScoreAt_DetectionFarAfterWindow_IsFullFalsePositive()
    {
        // Row 80: y = 31/9 = 3.44 > 3 → σ = −1; −0.11 − 1 = −1.11.
        Assert.Equal(-1.11, Standard(80), 12);
    }

    [Fact]
    public void ScoreAt_DetectionBeforeAnyWindow_IsFullFalsePositive()
    {
        // Row 20 (after probation, before the window): −A_FP − A_FN = −1.11.
        Assert.Equal(-1.11, Standard(20), 12);
    }

    [Fact]
    public void ScoreAt_DetectionInProbation_IsIgnored()
    {
        // Row 10 < 15: dropped; the window is missed: −1. Row 15 is the first row scored: −1.11.
        Assert.Equal(-1.0, Standard(10), 12);
        Assert.Equal(-1.11, Standard(15), 12);
    }

    [Fact]
    public void ScoreAt_WindowInsideProbation_IsNotScored()
    {
        // The window on rows 5..9 lies inside probation (15 rows), so it is not scored (no −A_FN). A detection
        // at row 60 is an FP measured from that window, as NAB does: y = (60 − 9)/(5 − 1) = 12.75 > 3 → −0.11.
        var file = FileScores("p.csv", 100, [Window(5, 9)], (60, 1.0));
        var score = NabScorer.ScoreAt([file], NabProfile.Standard, 0.5);
        Assert.Equal(-0.11, score.RawScore, 12);
        Assert.Equal((0, 1, 0), (score.TruePositives, score.FalsePositives, score.FalseNegatives));
        Assert.Equal(0, new NabSweep([file]).WindowCount);
    }

    [Fact]
    public void ScoreAt_ScoreEqualToThreshold_IsADetection()
    {
        var file = FileScores("t.csv", 100, OneWindow, (40, 0.5));
        Assert.Equal(1.0, NabScorer.ScoreAt([file], NabProfile.Standard, 0.5).RawScore, 12);
        Assert.Equal(-1.0, NabScorer.ScoreAt([file], NabProfile.Standard, 0.5000001).RawScore, 12);
    }

    [Fact]
    public void Optimize_ProfilesWeighFalsePositivesDifferently_PickDifferentThresholds()
    {
        // Rows 20..29 score 0.8 (ten FPs before the window, −A_FP each); row 40 scores 0.5; the rest 0.
        //   standard:   1.1 → −1; 0.8 → −1 − 1.1 = −2.1; 0.5 → 1 − 1.1 = −0.1 (best); 0 → every row, far worse.
        //   low FP:     1.1 → −1 (best); 0.8 → −1 − 2.2; 0.5 → 1 − 2.2 = −1.2.
        //   low FN:     1.1 → −2; 0.5 → −0.1 (best).
        var detections = new List<(int, double)> { (40, 0.5) };
        for (var r = 20; r < 30; r++)
        {
            detections.Add((r, 0.8));
        }

        var sweep = new NabSweep([FileScores("o.csv", 100, OneWindow, [.. detections])]);

        var standard = NabScorer.Evaluate(sweep, NabProfile.Standard);
        Assert.Equal(0.5, standard.Best.Threshold);
        Assert.Equal(-0.1, standard.Best.RawScore, 12);
        Assert.Equal((1, 10, 0), (standard.Best.TruePositives, standard.Best.FalsePositives, standard.Best.FalseNegatives));
        Assert.Equal(45.0, standard.NormalizedScore, 9); // 100·(−0.1 + 1)/(1 + 1)

        var lowFp = NabScorer.Evaluate(sweep, NabProfile.RewardLowFalsePositives);
        Assert.Equal(NabScorer.NoDetectionThreshold, lowFp.Best.Threshold);
        Assert.Equal(-1.0, lowFp.Best.RawScore, 12);
        Assert.Equal(0.0, lowFp.NormalizedScore, 12);

        var lowFn = NabScorer.Evaluate(sweep, NabProfile.RewardLowFalseNegatives);
        Assert.Equal(0.5, lowFn.Best.Threshold);
        Assert.Equal(63.333333333, lowFn.NormalizedScore, 8); // 100·(−0.1 + 2)/(1 + 2)
    }

    [Fact]
    public void Optimize_EqualScores_PicksTheHighestThreshold()
    {
        // Row 40 at 0.7 already scores 1; row 45 at 0.6 adds nothing, so 0.7 and 0.6 tie.
        var file = FileScores("tie.csv", 100, OneWindow, (40, 0.7), (45, 0.6));
        var best = NabScorer.Optimize([file], NabProfile.Standard);
        Assert.Equal(0.7, best.Threshold);
        Assert.Equal(1.0, best.RawScore, 12);
    }

    [Fact]
    public void Optimize_OneThresholdForTheCorpus_IsTheBestSumOverFiles()
    {
        // a.csv alone prefers 0.9 (1.0) to 0.6 (1 − 5·0.11 = 0.45); b.csv alone prefers 0.6 (1.0, −1 above).
        // Corpus: 0.9 → 1 − 1 = 0; 0.6 → 0.45 + 1 = 1.45: the corpus picks 0.6.
        var a = FileScores("a.csv", 100, OneWindow, (40, 0.9), (20, 0.6), (21, 0.6), (22, 0.6), (23, 0.6), (24, 0.6));
        var b = FileScores("b.csv", 100, OneWindow, (40, 0.6));
        var best = NabScorer.Optimize([a, b], NabProfile.Standard);
        Assert.Equal(0.6, best.Threshold);
        Assert.Equal(1.45, best.RawScore, 12);
        var perFile = NabScorer.ScoreAt([a], NabProfile.Standard, 0.6).RawScore + NabScorer.ScoreAt([b], NabProfile.Standard, 0.6).RawScore;
        Assert.Equal(best.RawScore, perFile, 12);
        Assert.Equal(0.9, NabScorer.Optimize([a], NabProfile.Standard).Threshold);
    }

    [Fact]
    public void Evaluate_NullDetector_ScoresZeroOnEveryProfile()
    {
        var files = TwoFiles(new double[100], new double[200]);
        foreach (var profile in NabProfile.All)
        {
            var result = NabScorer.Evaluate(new NabSweep(files), profile);
            Assert.Equal(0.0, result.NormalizedScore, 12);
            Assert.Equal(-3 * profile.FalseNegativeWeight, result.Best.RawScore, 12);
        }
    }

    [Fact]
    public void Evaluate_PerfectDetector_Scores100OnEveryProfile()
    {
        var a = new double[100];
        a[40] = 1;
        var b = new double[200];
        b[50] = 1;
        b[120] = 1;
        foreach (var profile in NabProfile.All)
        {
            var result = NabScorer.Evaluate(new NabSweep(TwoFiles(a, b)), profile);
            Assert.Equal(100.0, result.NormalizedScore, 12);
            Assert.Equal((3, 0, 0), (result.Best.TruePositives, result.Best.FalsePositives, result.Best.FalseNegatives));
        }
    }

    [Fact]
    public void LocateWindows_BoundariesBetweenRows_CoverTheRowsInside()
    {
        var t = Minutes(10);
        var w = new NabWindow(t[2].AddSeconds(30), t[5].AddSeconds(10));
        var empty = new NabWindow(t[7].AddSeconds(10), t[7].AddSeconds(20));
        Assert.Equal([new NabWindowRows(3, 5)], NabScorer.LocateWindows(t, [empty, w]));
    }

    [Fact]
    public void Normalize_NoScoredWindow_Throws()
    {
        Assert.Throws<ArgumentException>(() => NabScorer.Normalize(0, 0, 0));
    }

    [Fact]
    public void NabFileScores_ScoreOutsideUnitInterval_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => new NabFileScores("x.csv", Minutes(3), [0, 1.5, 0], []));
        Assert.Contains("row 1", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new NabFileScores("x.csv", Minutes(3), [0, double.NaN, 0], []));
    }

    private static NabFileScores[] TwoFiles(double[] a, double[] b) =>
    [
        new NabFileScores("a.csv", Minutes(a.Length), a, [Window(40, 49)]),
        new NabFileScores("b.csv", Minutes(b.Length), b, [Window(50, 69), Window(120, 139)]),
    ];
}
