namespace AnomalyZT.Silo.Nab;

/// <summary>
/// A corpus prepared for scoring (see <see cref="NabScorer"/> for the rules): every row after its file's
/// probation period with its anomaly score, its unweighted NAB score and its window, sorted by anomaly
/// score, highest first (ties in file order, then row order, so every sum is taken in one fixed order).
/// Built once and scored under any profile and threshold.
/// </summary>
public sealed class NabSweep
{
    private readonly double[] _anomaly;
    private readonly double[] _weight;
    private readonly int[] _window;

    /// <summary>Prepares the given files; their names must be distinct.</summary>
    public NabSweep(IReadOnlyList<NabFileScores> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        var names = new HashSet<string>(StringComparer.Ordinal);
        var anomaly = new List<double>();
        var weight = new List<double>();
        var window = new List<int>();
        var windows = 0;
        var rows = 0;
        foreach (var file in files)
        {
            if (!names.Add(file.Name))
            {
                throw new ArgumentException("file '" + file.Name + "' appears twice; names must be distinct", nameof(files));
            }

            rows += file.Timestamps.Count;
            windows += AddFile(file, windows, anomaly, weight, window);
        }

        var order = new int[anomaly.Count];
        for (var i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        var a = anomaly.ToArray();
        Array.Sort(order, (x, y) => a[x] != a[y] ? a[y].CompareTo(a[x]) : x.CompareTo(y));
        _anomaly = new double[order.Length];
        _weight = new double[order.Length];
        _window = new int[order.Length];
        for (var i = 0; i < order.Length; i++)
        {
            _anomaly[i] = a[order[i]];
            _weight[i] = weight[order[i]];
            _window[i] = window[order[i]];
        }

        FileCount = names.Count;
        RowCount = rows;
        WindowCount = windows;
    }

    /// <summary>The number of files.</summary>
    public int FileCount { get; }

    /// <summary>The number of rows, probation included.</summary>
    public int RowCount { get; }

    /// <summary>The number of scorable rows (after each file's probation period).</summary>
    public int ScorableRowCount => _anomaly.Length;

    /// <summary>The number of scorable windows: windows with at least one row after their file's probation period.</summary>
    public int WindowCount { get; }

    internal ReadOnlySpan<double> Anomaly => _anomaly;

    internal ReadOnlySpan<double> Weight => _weight;

    internal ReadOnlySpan<int> Window => _window;

    // Appends the file's scorable rows; returns how many windows it adds. A row in window w gets its
    // unweighted TP score and window id; a row outside every window gets its unweighted FP score and -1.
    private static int AddFile(NabFileScores file, int firstWindowId, List<double> anomaly, List<double> weight, List<int> window)
    {
        var n = file.Timestamps.Count;
        var probation = NabScorer.ProbationLength(n);
        var located = NabScorer.LocateWindows(file.Timestamps, file.Windows);
        var maxTp = NabScorer.ScaledSigmoid(-1.0);
        var next = 0;
        var added = 0;
        NabWindowRows? current = null;
        NabWindowRows? previous = null;
        var currentId = -1;
        for (var i = 0; i < n; i++)
        {
            if (current is null && next < located.Count && located[next].First == i)
            {
                current = located[next++];
                currentId = -1;
            }

            double w;
            if (current is { } c)
            {
                w = NabScorer.ScaledSigmoid(-(double)(c.Last - i + 1) / c.Width) / maxTp;
            }
            else if (previous is { } p)
            {
                // NAB divides by (width - 1); a one-row window would divide by zero there, so use 1.
                w = NabScorer.ScaledSigmoid((double)(i - p.Last) / Math.Max(p.Width - 1, 1));
            }
            else
            {
                w = -1.0;
            }

            if (i >= probation)
            {
                if (current is not null && currentId < 0)
                {
                    currentId = firstWindowId + added++;
                }

                anomaly.Add(file.AnomalyScores[i]);
                weight.Add(w);
                window.Add(current is null ? -1 : currentId);
            }

            if (current is { } e && e.Last == i)
            {
                previous = current;
                current = null;
            }
        }

        return added;
    }
}
