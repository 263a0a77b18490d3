using System.Collections.ObjectModel;

namespace AnomalyZT.Silo.Nab;

/// <summary>A labelled anomaly window of a NAB series: every row from <see cref="Start"/> to <see cref="End"/>, both included.</summary>
/// <param name="Start">The timestamp of the window's first row (UTC).</param>
/// <param name="End">The timestamp of the window's last row (UTC).</param>
public readonly record struct NabWindow(DateTime Start, DateTime End);

/// <summary>One NAB data file: its rows in file order and its labelled windows in time order.</summary>
public sealed class NabSeries
{
    /// <summary>Creates a series; timestamps and values must have the same length.</summary>
    /// <param name="relativePath">The file's name relative to NAB's <c>data/</c> folder, e.g. <c>realTraffic/speed_7578.csv</c>.</param>
    /// <param name="timestamps">The row timestamps (UTC), in file order.</param>
    /// <param name="values">The row values, in file order.</param>
    /// <param name="windows">The labelled windows; they are kept sorted by start.</param>
    public NabSeries(string relativePath, IReadOnlyList<DateTime> timestamps, IReadOnlyList<double> values, IReadOnlyList<NabWindow> windows)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(relativePath);
        ArgumentNullException.ThrowIfNull(timestamps);
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(windows);
        if (timestamps.Count != values.Count)
        {
            throw new ArgumentException(relativePath + ": " + timestamps.Count + " timestamps and " + values.Count + " values; they must have the same length", nameof(values));
        }

        var slash = relativePath.LastIndexOf('/');
        if (slash <= 0 || slash == relativePath.Length - 1)
        {
            throw new ArgumentException("relative path is '" + relativePath + "'; it must be '<category>/<file>.csv'", nameof(relativePath));
        }

        RelativePath = relativePath;
        Category = relativePath[..slash];
        FileName = relativePath[(slash + 1)..];
        Timestamps = Array.AsReadOnly([.. timestamps]);
        Values = Array.AsReadOnly([.. values]);
        var sorted = windows.ToArray();
        Array.Sort(sorted, static (a, b) => a.Start.CompareTo(b.Start));
        Windows = Array.AsReadOnly(sorted);
    }

    /// <summary>The file's name relative to NAB's <c>data/</c> folder, with '/' separators (the key of NAB's label files).</summary>
    public string RelativePath { get; }

    /// <summary>The folder under <c>data/</c>, e.g. <c>realTraffic</c>.</summary>
    public string Category { get; }

    /// <summary>The file name, e.g. <c>speed_7578.csv</c>.</summary>
    public string FileName { get; }

    /// <summary>The row timestamps (UTC), in file order.</summary>
    public ReadOnlyCollection<DateTime> Timestamps { get; }

    /// <summary>The row values, in file order.</summary>
    public ReadOnlyCollection<double> Values { get; }

    /// <summary>The labelled windows, sorted by start.</summary>
    public ReadOnlyCollection<NabWindow> Windows { get; }

    /// <summary>The number of rows.</summary>
    public int Count => Timestamps.Count;
}
