using System.Globalization;

namespace AnomalyZT.Silo.Nab;

/// <summary>The rows of a row range [<see cref="First"/>, <see cref="Last"/>] that a labelled window covers in one file.</summary>
/// <param name="First">Index of the window's first row.</param>
/// <param name="Last">Index of the window's last row (included).</param>
public readonly record struct NabWindowRows(int First, int Last)
{
    /// <summary>The number of rows in the window.</summary>
    public int Width => Last - First + 1;
}

/// <summary>One file as the scorer sees it: row timestamps, a detector's anomaly score per row, the labelled windows.</summary>
public sealed class NabFileScores
{
    /// <summary>Creates the scorer's view of one file; every anomaly score must be finite and in [0, 1].</summary>
    /// <param name="name">A name unique in the corpus (NAB's relative path).</param>
    /// <param name="timestamps">Row timestamps, in file order.</param>
    /// <param name="anomalyScores">The detector's score per row, in file order.</param>
    /// <param name="windows">The labelled windows.</param>
    public NabFileScores(string name, IReadOnlyList<DateTime> timestamps, IReadOnlyList<double> anomalyScores, IReadOnlyList<NabWindow> windows)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(timestamps);
        ArgumentNullException.ThrowIfNull(anomalyScores);
        ArgumentNullException.ThrowIfNull(windows);
        if (timestamps.Count != anomalyScores.Count)
        {
            throw new ArgumentException(name + ": " + timestamps.Count + " timestamps and " + anomalyScores.Count + " anomaly scores; they must have the same length", nameof(anomalyScores));
        }

        for (var i = 0; i < anomalyScores.Count; i++)
        {
            var a = anomalyScores[i];
            if (!(a >= 0 && a <= 1))
            {
                throw new ArgumentException(name + " row " + i.ToString(CultureInfo.InvariantCulture) + ": anomaly score is " + a.ToString(CultureInfo.InvariantCulture) + "; it must be in [0, 1]", nameof(anomalyScores));
            }
        }

        Name = name;
        Timestamps = timestamps;
        AnomalyScores = anomalyScores;
        Windows = windows;
    }

    /// <summary>Creates the scorer's view of a corpus series scored by a detector.</summary>
    public NabFileScores(NabSeries series, IReadOnlyList<double> anomalyScores)
        : this(series?.RelativePath ?? throw new ArgumentNullException(nameof(series)), series.Timestamps, anomalyScores, series.Windows)
    {
    }

    /// <summary>The file's name, unique in the corpus.</summary>
    public string Name { get; }

    /// <summary>Row timestamps, in file order.</summary>
    public IReadOnlyList<DateTime> Timestamps { get; }

    /// <summary>The detector's anomaly score per row, in [0, 1].</summary>
    public IReadOnlyList<double> AnomalyScores { get; }

    /// <summary>The labelled windows.</summary>
    public IReadOnlyList<NabWindow> Windows { get; }
}
