using System.Diagnostics;
using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Text;

namespace AnomalyZT.Silo.Nab;

/// <summary>
/// Runs one detector configuration over every series of a corpus, streaming with no look-ahead and no
/// per-file parameters, writes NAB result files and scores the run under NAB's three profiles.
/// Files run in parallel; the report and the files are the same for any degree of parallelism.
/// </summary>
public static class NabRunner
{
    /// <summary>The header of a result file, as NAB writes it.</summary>
    public const string ResultHeader = "timestamp,value,anomaly_score,label";

    private const string TimestampFormat = "yyyy-MM-dd HH:mm:ss.FFFFFFF";

    /// <summary>
    /// Runs <paramref name="factory"/>'s detectors (one per file) over <paramref name="corpus"/>; when
    /// <paramref name="outDir"/> is set writes <c>outDir/&lt;category&gt;/&lt;detectorName&gt;_&lt;file&gt;.csv</c>
    /// (<see cref="ResultHeader"/>, label 1 inside a window); returns the normalised score, optimised
    /// threshold, raw score and counts per profile.
    /// </summary>
    /// <param name="corpus">The series to run.</param>
    /// <param name="factory">Creates a fresh detector; called once per file, possibly from several threads.</param>
    /// <param name="detectorName">Names the result files: letters, digits, '-' and '.' (NAB reads a detector's name up to the first '_').</param>
    /// <param name="outDir">Where to write result files; null writes none.</param>
    /// <param name="ct">Stops the run.</param>
    /// <exception cref="InvalidOperationException">A detector returned a score outside [0, 1], or the factory returned null.</exception>
    public static Task<NabReport> RunAsync(NabCorpus corpus, Func<INabDetector> factory, string detectorName, string? outDir, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        ArgumentNullException.ThrowIfNull(factory);
        ValidateName(detectorName);
        return Task.Run(() => Run(corpus, factory, detectorName, outDir, ct), ct);
    }

    private static NabReport Run(NabCorpus corpus, Func<INabDetector> factory, string detectorName, string? outDir, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var series = corpus.Series;
        var scores = new double[series.Count][];
        var options = new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = ct };
        try
        {
            Parallel.For(0, series.Count, options, i =>
            {
                scores[i] = RunSeries(series[i], factory, detectorName, ct);
                if (outDir is not null)
                {
                    WriteResults(series[i], scores[i], detectorName, outDir);
                }
            });
        }
        catch (AggregateException e)
        {
            // Several files can fail at once in parallel; report the first by message so the error is the same on
            // every run, however the threads interleaved.
            var inner = e.Flatten().InnerExceptions;
            var first = inner[0];
            foreach (var x in inner)
            {
                if (string.CompareOrdinal(x.Message, first.Message) < 0)
                {
                    first = x;
                }
            }

            ExceptionDispatchInfo.Throw(first);
        }

        var files = new NabFileScores[series.Count];
        for (var i = 0; i < files.Length; i++)
        {
            files[i] = new NabFileScores(series[i], scores[i]);
        }

        var sweep = new NabSweep(files);
        var results = new NabProfileResult[NabProfile.All.Count];
        for (var p = 0; p < results.Length; p++)
        {
            results[p] = NabScorer.Evaluate(sweep, NabProfile.All[p]);
        }

        return new NabReport(detectorName, sweep.FileCount, sweep.RowCount, sweep.WindowCount, Stopwatch.GetElapsedTime(started), results);
    }

    private static double[] RunSeries(NabSeries series, Func<INabDetector> factory, string detectorName, CancellationToken ct)
    {
        var detector = factory() ?? throw new InvalidOperationException("the factory for detector '" + detectorName + "' returned null");
        var timestamps = series.Timestamps;
        var values = series.Values;
        var result = new double[series.Count];
        for (var i = 0; i < result.Length; i++)
        {
            if ((i & 1023) == 0)
            {
                ct.ThrowIfCancellationRequested();
            }

            var a = detector.Score(timestamps[i], values[i]);
            if (!(a >= 0 && a <= 1))
            {
                throw new InvalidOperationException("detector '" + detectorName + "' scored " + a.ToString(CultureInfo.InvariantCulture) + " on " + series.RelativePath + " row " + i.ToString(CultureInfo.InvariantCulture) + "; anomaly scores must be in [0, 1]");
            }

            result[i] = a;
        }

        return result;
    }

    private static void WriteResults(NabSeries series, double[] scores, string detectorName, string outDir)
    {
        var dir = Path.Combine(outDir, series.Category.Replace('/', Path.DirectorySeparatorChar));
        Directory.CreateDirectory(dir);
        var inWindow = new bool[series.Count];
        foreach (var w in NabScorer.LocateWindows(series.Timestamps, series.Windows))
        {
            inWindow.AsSpan(w.First, w.Width).Fill(true);
        }

        using var writer = new StreamWriter(Path.Combine(dir, detectorName + "_" + series.FileName), append: false, new UTF8Encoding(false), 1 << 16);
        writer.Write(ResultHeader);
        writer.Write('\n');
        Span<char> buffer = stackalloc char[128];
        for (var i = 0; i < scores.Length; i++)
        {
            var n = 0;
            Append(series.Timestamps[i].TryFormat(buffer[n..], out var c, TimestampFormat, CultureInfo.InvariantCulture), c, ref n);
            buffer[n++] = ',';
            Append(series.Values[i].TryFormat(buffer[n..], out c, default, CultureInfo.InvariantCulture), c, ref n);
            buffer[n++] = ',';
            Append(scores[i].TryFormat(buffer[n..], out c, default, CultureInfo.InvariantCulture), c, ref n);
            buffer[n++] = ',';
            buffer[n++] = inWindow[i] ? '1' : '0';
            buffer[n++] = '\n';
            writer.Write(buffer[..n]);
        }
    }

    // A timestamp takes at most 27 chars and a double at most 24, so 128 always fits.
    private static void Append(bool formatted, int written, ref int position)
    {
        if (!formatted)
        {
            throw new InvalidOperationException("a result row did not fit its 128-char buffer");
        }

        position += written;
    }

    private static void ValidateName(string detectorName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(detectorName);
        foreach (var ch in detectorName)
        {
            if (!char.IsAsciiLetterOrDigit(ch) && ch != '-' && ch != '.')
            {
                throw new ArgumentException("detector name is '" + detectorName + "'; it must be letters, digits, '-' and '.' only (it names files, and NAB reads a detector's name up to the first '_')", nameof(detectorName));
            }
        }
    }
}
