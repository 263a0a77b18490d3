using AnomalyZT.Silo.Nab;

namespace AnomalyZT.Tests.Nab;

public sealed class NabCorpusTests
{
    [Fact]
    public void Load_Subset_ReadsRowsAndWindowsAsUtc()
    {
        var corpus = NabCorpus.Load(NabTestData.Root, NabTestData.Subset);

        Assert.Equal(NabTestData.Subset, corpus.Series.Select(s => s.RelativePath));
        Assert.Equal([1243, 1538, 1127], corpus.Series.Select(s => s.Count));
        Assert.Equal([2, 3, 4], corpus.Series.Select(s => s.Windows.Count));
        var speed = corpus.Series[2];
        Assert.Equal("realTraffic", speed.Category);
        Assert.Equal("speed_7578.csv", speed.FileName);
        Assert.Equal(DateTimeKind.Utc, speed.Timestamps[0].Kind);
        Assert.Equal(new DateTime(2015, 9, 11, 15, 34, 0, DateTimeKind.Utc), speed.Windows[0].Start);
        Assert.Equal(new DateTime(2015, 9, 11, 17, 54, 0, DateTimeKind.Utc), speed.Windows[0].End);
    }

    [Fact]
    public void Load_CrlfFile_ParsesEveryRow()
    {
        // The realAdExchange files end lines with CRLF.
        var s = NabCorpus.Load(NabTestData.Root, ["realAdExchange/exchange-3_cpc_results.csv"]).Series[0];
        Assert.Equal(new DateTime(2011, 7, 1, 0, 15, 1, DateTimeKind.Utc), s.Timestamps[0]);
        Assert.All(s.Values, v => Assert.True(double.IsFinite(v)));
    }

    [Fact]
    public void Load_FullCorpus_EveryWindowIsScoredAndMatchesRowTimestamps()
    {
        // NAB v1.1: 58 files, 116 windows. Every window boundary is a row timestamp and every window
        // starts after probation, so the scorer's window rule and normalisation agree with NAB's here.
        var corpus = NabCorpus.Load(NabTestData.Root);
        Assert.Equal(58, corpus.Series.Count);
        Assert.Equal(116, corpus.WindowCount);
        foreach (var s in corpus.Series)
        {
            var rows = NabScorer.LocateWindows(s.Timestamps, s.Windows);
            Assert.Equal(s.Windows.Count, rows.Count);
            for (var i = 0; i < rows.Count; i++)
            {
                Assert.Equal(s.Windows[i].Start, s.Timestamps[rows[i].First]);
                Assert.Equal(s.Windows[i].End, s.Timestamps[rows[i].Last]);
                Assert.True(rows[i].First >= NabScorer.ProbationLength(s.Count), s.RelativePath + " has a window starting in probation");
            }
        }

        var files = corpus.Series.Select(s => new NabFileScores(s, new double[s.Count])).ToArray();
        Assert.Equal(116, new NabSweep(files).WindowCount);
    }

    [Fact]
    public void Select_NamedSeries_KeepsThemInPathOrder()
    {
        var corpus = NabCorpus.Load(NabTestData.Root, NabTestData.Subset);
        var picked = corpus.Select(["realTraffic/speed_7578.csv", "realAdExchange/exchange-3_cpc_results.csv"]);
        Assert.Equal(["realAdExchange/exchange-3_cpc_results.csv", "realTraffic/speed_7578.csv"], picked.Series.Select(s => s.RelativePath));
    }

    [Fact]
    public void Select_UnknownSeries_Throws()
    {
        var corpus = NabCorpus.Load(NabTestData.Root, NabTestData.Subset);
        var e = Assert.Throws<ArgumentException>(() => corpus.Select(["realTraffic/nope.csv"]));
        Assert.Contains("realTraffic/nope.csv", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_UnlabelledName_Throws()
    {
        var e = Assert.Throws<InvalidDataException>(() => NabCorpus.Load(NabTestData.Root, ["realTraffic/nope.csv"]));
        Assert.Contains("realTraffic/nope.csv", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MissingRoot_ThrowsNamingThePath()
    {
        var missing = Path.Combine(Path.GetTempPath(), "nab-missing-" + Guid.NewGuid().ToString("N"));
        var e = Assert.Throws<DirectoryNotFoundException>(() => NabCorpus.Load(missing));
        Assert.Contains(missing, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MalformedRow_ThrowsWithFileAndLine()
    {
        var root = Directory.CreateTempSubdirectory("nab-bad-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "labels"));
            Directory.CreateDirectory(Path.Combine(root, "data", "cat"));
            File.WriteAllText(Path.Combine(root, "labels", "combined_windows.json"), "{\"cat/f.csv\": []}");
            File.WriteAllText(Path.Combine(root, "data", "cat", "f.csv"), "timestamp,value\n2020-01-01 00:00:00,1\n2020-01-01 00:01:00,abc\n");
            var e = Assert.Throws<InvalidDataException>(() => NabCorpus.Load(root));
            Assert.Contains("f.csv:3", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
