using System.Collections.Concurrent;
using System.Globalization;
using AnomalyZT.Silo.Nab;
using static AnomalyZT.Tests.Nab.NabTestData;

namespace AnomalyZT.Tests.Nab;

public sealed class NabRunnerTests : IDisposable
{
    private readonly string _outDir = Directory.CreateTempSubdirectory("nab-run-").FullName;

    public void Dispose() => Directory.Delete(_outDir, recursive: true);

    [Fact]
    public async Task RunAsync_RealSubsetWithZScore_WritesNabFilesAndScoresInRange()
    {
        var corpus = NabCorpus.Load(Root, Subset);

        var report = await NabRunner.RunAsync(corpus, () => new ZScoreNabDetector(), "zscore", _outDir, TestContext.Current.CancellationToken);

        Assert.Equal((3, 3908, 9), (report.FileCount, report.RowCount, report.WindowCount));
        Assert.Equal(NabProfile.All, report.Profiles.Select(p => p.Profile));
        foreach (var p in report.Profiles)
        {
            // The optimiser may always choose "no detections" (the null score), so a score is never below 0.
            Assert.True(double.IsFinite(p.NormalizedScore) && p.NormalizedScore is >= 0 and <= 100, p.Profile.Name + ": " + p.NormalizedScore);
            Assert.Equal(9, p.Best.TruePositives + p.Best.FalseNegatives);
        }

        foreach (var s in corpus.Series)
        {
            var path = Path.Combine(_outDir, s.Category, "zscore_" + s.FileName);
            var lines = File.ReadAllLines(path);
            Assert.Equal(NabRunner.ResultHeader, lines[0]);
            Assert.Equal(s.Count + 1, lines.Length);
            var windowRows = NabScorer.LocateWindows(s.Timestamps, s.Windows).Sum(w => w.Width);
            Assert.Equal(windowRows, lines.Skip(1).Count(l => l.EndsWith(",1", StringComparison.Ordinal)));
            var first = lines[1].Split(',');
            Assert.True(NabCorpus.TryParseTimestamp(first[0], out var t));
            Assert.Equal(s.Timestamps[0], t);
            Assert.Equal(s.Values[0], double.Parse(first[1], CultureInfo.InvariantCulture));
            Assert.Equal(0.0, double.Parse(first[2], CultureInfo.InvariantCulture));
        }

        Assert.Contains("standard", report.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_TwiceOnTheSameCorpus_GivesTheSameScoresAndFiles()
    {
        var corpus = NabCorpus.Load(Root, Subset);
        var other = Path.Combine(_outDir, "second");

        var a = await NabRunner.RunAsync(corpus, () => new ZScoreNabDetector(), "zscore", _outDir, TestContext.Current.CancellationToken);
        var b = await NabRunner.RunAsync(corpus, () => new ZScoreNabDetector(), "zscore", other, TestContext.Current.CancellationToken);

        Assert.Equal(a.Profiles, b.Profiles);
        foreach (var s in corpus.Series)
        {
            var name = Path.Combine(s.Category, "zscore_" + s.FileName);
            Assert.Equal(File.ReadAllBytes(Path.Combine(_outDir, name)), File.ReadAllBytes(Path.Combine(other, name)));
        }
    }

    [Fact]
    public async Task RunAsync_NullDetectorOnRealSubset_ScoresZero()
    {
        var corpus = NabCorpus.Load(Root, Subset);
        var report = await NabRunner.RunAsync(corpus, () => new Constant(0.0), "null", null, TestContext.Current.CancellationToken);
        Assert.All(report.Profiles, p => Assert.Equal(0.0, p.NormalizedScore, 12));
    }

    [Fact]
    public void Evaluate_PerfectScoresOnRealSubset_Score100()
    {
        var corpus = NabCorpus.Load(Root, Subset);
        var sweep = new NabSweep([.. corpus.Series.Select(s => new NabFileScores(s, PerfectScores(s)))]);
        Assert.All(NabProfile.All, p => Assert.Equal(100.0, NabScorer.Evaluate(sweep, p).NormalizedScore, 12));
    }

    [Fact]
    public async Task RunAsync_PerfectStreamingDetector_Scores100()
    {
        // Each file has its own dates, so a detector that knows every window start alerts only there.
        var corpus = Synthetic();
        var starts = corpus.Series.SelectMany(s => s.Windows).Select(w => w.Start).ToHashSet();
        var report = await NabRunner.RunAsync(corpus, () => new Lookup(starts), "perfect", null, TestContext.Current.CancellationToken);
        Assert.All(report.Profiles, p => Assert.Equal(100.0, p.NormalizedScore, 12));
    }

    [Fact]
    public async Task RunAsync_EachFile_StreamsItsRowsInOrderToItsOwnDetector()
    {
        var corpus = Synthetic();
        var detectors = new ConcurrentBag<Recorder>();

        await NabRunner.RunAsync(corpus, () => { var r = new Recorder(); detectors.Add(r); return r; }, "rec", null, TestContext.Current.CancellationToken);

        Assert.Equal(corpus.Series.Count, detectors.Count);
        foreach (var s in corpus.Series)
        {
            var mine = Assert.Single(detectors, d => d.Timestamps[0] == s.Timestamps[0]);
            Assert.Equal(s.Timestamps, mine.Timestamps);
            Assert.Equal(s.Values, mine.Values);
        }
    }

    [Fact]
    public async Task RunAsync_ScoreOutsideUnitInterval_ThrowsNamingFileAndRow()
    {
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            NabRunner.RunAsync(Synthetic(), () => new Constant(1.5), "bad", null, TestContext.Current.CancellationToken));
        Assert.Contains("row 0", e.Message, StringComparison.Ordinal);
        Assert.Contains("cat/", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_DetectorNameWithPathCharacters_Throws()
    {
        await Assert.ThrowsAsync<ArgumentException>(() =>
            NabRunner.RunAsync(Synthetic(), () => new Constant(0), "../x", _outDir, TestContext.Current.CancellationToken));
    }

    // Four 300-row files a day apart, each with one window (rows 100..129 and 200..219 in the last).
    private static NabCorpus Synthetic()
    {
        var series = new List<NabSeries>();
        for (var f = 0; f < 4; f++)
        {
            var t = Minutes(300).Select(x => x.AddDays(f)).ToArray();
            var v = t.Select((_, i) => Math.Sin(i / 10.0) + f).ToArray();
            NabWindow[] w = f == 3
                ? [new(t[100], t[129]), new(t[200], t[219])]
                : [new(t[100], t[129])];
            series.Add(new NabSeries("cat/f" + f.ToString(CultureInfo.InvariantCulture) + ".csv", t, v, w));
        }

        return new NabCorpus(series);
    }

    private sealed class Constant(double score) : INabDetector
    {
        public double Score(DateTime timestamp, double value) => score;
    }

    private sealed class Lookup(HashSet<DateTime> alerts) : INabDetector
    {
        public double Score(DateTime timestamp, double value) => alerts.Contains(timestamp) ? 1.0 : 0.0;
    }

    private sealed class Recorder : INabDetector
    {
        public List<DateTime> Timestamps { get; } = [];

        public List<double> Values { get; } = [];

        public double Score(DateTime timestamp, double value)
        {
            Timestamps.Add(timestamp);
            Values.Add(value);
            return 0;
        }
    }
}
