using AnomalyZT.Silo.Nab;
using AnomalyZT.Tests.Silo;

namespace AnomalyZT.Tests.Nab;

/// <summary>The NAB corpus beside the repository (CI checks shared/ out next to it) and small hand-made series.</summary>
internal static class NabTestData
{
    /// <summary>Three small real files with 2, 3 and 4 windows (3,908 rows).</summary>
    public static readonly string[] Subset =
    [
        "realAWSCloudwatch/iio_us-east-1_i-a2eb1cd9_NetworkIn.csv",
        "realAdExchange/exchange-3_cpc_results.csv",
        "realTraffic/speed_7578.csv",
    ];

    public static readonly DateTime Epoch = new(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    /// <summary><c>&lt;repo&gt;/../shared/datasets/nab</c>; a missing corpus fails the test, it never skips it.</summary>
    public static string Root
    {
        get
        {
            var root = Path.GetFullPath(Path.Combine(RepoPaths.Root, "..", "shared", "datasets", "nab"));
            if (!File.Exists(Path.Combine(root, "labels", "combined_windows.json")))
            {
                Assert.Fail("NAB corpus missing: expected " + root + " (data/ and labels/combined_windows.json). "
                    + "CI must check out shared/ beside the repository; these tests are not skipped without it.");
            }

            return root;
        }
    }

    /// <summary><paramref name="rows"/> timestamps one minute apart from <see cref="Epoch"/>.</summary>
    public static DateTime[] Minutes(int rows)
    {
        var t = new DateTime[rows];
        for (var i = 0; i < rows; i++)
        {
            t[i] = Epoch.AddMinutes(i);
        }

        return t;
    }

    /// <summary>The window covering rows <paramref name="first"/>..<paramref name="last"/> of a <see cref="Minutes"/> series.</summary>
    public static NabWindow Window(int first, int last) => new(Epoch.AddMinutes(first), Epoch.AddMinutes(last));

    /// <summary>A file of <paramref name="rows"/> minutes scoring 0 except <paramref name="detections"/> (row → score).</summary>
    public static NabFileScores FileScores(string name, int rows, NabWindow[] windows, params (int Row, double Score)[] detections)
    {
        var scores = new double[rows];
        foreach (var (row, score) in detections)
        {
            scores[row] = score;
        }

        return new NabFileScores(name, Minutes(rows), scores, windows);
    }

    /// <summary>Scores 1 on each window's first row, 0 elsewhere: NAB's perfect detector.</summary>
    public static double[] PerfectScores(NabSeries series)
    {
        var scores = new double[series.Count];
        foreach (var w in NabScorer.LocateWindows(series.Timestamps, series.Windows))
        {
            scores[w.First] = 1.0;
        }

        return scores;
    }
}
