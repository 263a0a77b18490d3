using System.Collections.ObjectModel;
using System.Globalization;
using System.Text.Json;

namespace AnomalyZT.Silo.Nab;

/// <summary>
/// A set of NAB series with their labelled windows, loaded from NAB's published layout:
/// <c>data/&lt;category&gt;/&lt;file&gt;.csv</c> (header <c>timestamp,value</c>) and
/// <c>labels/combined_windows.json</c> (key <c>"category/file.csv"</c> → list of <c>[start, end]</c>).
/// Timestamps are read as UTC; series keep NAB's file order (sorted by relative path, ordinal).
/// </summary>
public sealed class NabCorpus
{
    /// <summary>The windows file, relative to the corpus root.</summary>
    public const string WindowsFile = "labels/combined_windows.json";

    private static readonly string[] TimestampFormats = ["yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm:ss.FFFFFFF"];

    /// <summary>Creates a corpus of the given series; relative paths must be distinct.</summary>
    /// <param name="series">The series, in any order; they are kept sorted by relative path.</param>
    public NabCorpus(IEnumerable<NabSeries> series)
    {
        ArgumentNullException.ThrowIfNull(series);
        var all = series.ToArray();
        Array.Sort(all, static (a, b) => string.CompareOrdinal(a.RelativePath, b.RelativePath));
        for (var i = 1; i < all.Length; i++)
        {
            if (all[i].RelativePath == all[i - 1].RelativePath)
            {
                throw new ArgumentException("series '" + all[i].RelativePath + "' appears twice; relative paths must be distinct", nameof(series));
            }
        }

        Series = Array.AsReadOnly(all);
    }

    /// <summary>The series, sorted by relative path (ordinal).</summary>
    public ReadOnlyCollection<NabSeries> Series { get; }

    /// <summary>The number of labelled windows over all series.</summary>
    public int WindowCount
    {
        get
        {
            var n = 0;
            foreach (var s in Series)
            {
                n += s.Windows.Count;
            }

            return n;
        }
    }

    /// <summary>
    /// Loads the corpus under <paramref name="root"/> (the folder holding <c>data/</c> and <c>labels/</c>):
    /// every file named in the windows file, or only <paramref name="only"/> when given.
    /// </summary>
    /// <param name="root">The NAB folder.</param>
    /// <param name="only">Relative paths (<c>category/file.csv</c>) to load; null loads all.</param>
    /// <exception cref="DirectoryNotFoundException">The folder or its windows file is missing.</exception>
    /// <exception cref="InvalidDataException">A file is malformed or a requested series is not labelled.</exception>
    public static NabCorpus Load(string root, IEnumerable<string>? only = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        var windowsPath = Path.Combine(root, "labels", "combined_windows.json");
        if (!File.Exists(windowsPath))
        {
            throw new DirectoryNotFoundException("NAB corpus not found: " + Path.GetFullPath(windowsPath) + " does not exist; the root must hold data/ and " + WindowsFile);
        }

        var labels = ReadWindows(windowsPath);
        IEnumerable<string> names = labels.Keys;
        if (only is not null)
        {
            var wanted = only.ToArray();
            foreach (var name in wanted)
            {
                if (!labels.ContainsKey(name))
                {
                    throw new InvalidDataException("NAB series '" + name + "' is not in " + WindowsFile + "; names are 'category/file.csv'");
                }
            }

            names = wanted.Distinct(StringComparer.Ordinal);
        }

        var series = new List<NabSeries>();
        foreach (var name in names)
        {
            series.Add(ReadSeries(root, name, labels[name]));
        }

        return new NabCorpus(series);
    }

    /// <summary>The sub-corpus of the named series (relative paths, <c>category/file.csv</c>).</summary>
    /// <exception cref="ArgumentException">A name is not in this corpus.</exception>
    public NabCorpus Select(IEnumerable<string> relativePaths)
    {
        ArgumentNullException.ThrowIfNull(relativePaths);
        var byName = Series.ToDictionary(static s => s.RelativePath, StringComparer.Ordinal);
        var picked = new List<NabSeries>();
        foreach (var name in relativePaths.Distinct(StringComparer.Ordinal))
        {
            if (!byName.TryGetValue(name, out var s))
            {
                throw new ArgumentException("NAB series '" + name + "' is not in this corpus", nameof(relativePaths));
            }

            picked.Add(s);
        }

        return new NabCorpus(picked);
    }

    /// <summary>Parses a NAB timestamp (<c>yyyy-MM-dd HH:mm:ss</c>, optionally with a fraction) as UTC.</summary>
    public static bool TryParseTimestamp(ReadOnlySpan<char> text, out DateTime timestamp) =>
        DateTime.TryParseExact(text, TimestampFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out timestamp);

    private static Dictionary<string, NabWindow[]> ReadWindows(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException(path + ": the root is " + doc.RootElement.ValueKind + "; it must be an object of 'category/file.csv' → [[start, end], ...]");
        }

        var result = new Dictionary<string, NabWindow[]>(StringComparer.Ordinal);
        foreach (var file in doc.RootElement.EnumerateObject())
        {
            if (file.Value.ValueKind != JsonValueKind.Array)
            {
                throw new InvalidDataException(path + ": '" + file.Name + "' is " + file.Value.ValueKind + "; it must be a list of [start, end]");
            }

            var windows = new List<NabWindow>();
            foreach (var pair in file.Value.EnumerateArray())
            {
                if (!TryReadWindow(pair, out var window))
                {
                    throw new InvalidDataException(path + ": '" + file.Name + "' has window " + pair.GetRawText() + "; a window must be [start, end] timestamps with start ≤ end");
                }

                windows.Add(window);
            }

            result[file.Name] = [.. windows];
        }

        return result;
    }

    private static bool TryReadWindow(JsonElement pair, out NabWindow window)
    {
        window = default;
        if (pair.ValueKind != JsonValueKind.Array || pair.GetArrayLength() != 2
            || pair[0].ValueKind != JsonValueKind.String || pair[1].ValueKind != JsonValueKind.String
            || !TryParseTimestamp(pair[0].GetString(), out var start) || !TryParseTimestamp(pair[1].GetString(), out var end)
            || end < start)
        {
            return false;
        }

        window = new NabWindow(start, end);
        return true;
    }

    private static NabSeries ReadSeries(string root, string relativePath, NabWindow[] windows)
    {
        var path = Path.Combine(root, "data", relativePath.Replace('/', Path.DirectorySeparatorChar));
        if (!File.Exists(path))
        {
            throw new InvalidDataException("NAB data file " + Path.GetFullPath(path) + " is missing; " + WindowsFile + " names it");
        }

        var timestamps = new List<DateTime>();
        var values = new List<double>();
        var lineNo = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNo++;
            if (lineNo == 1)
            {
                if (line.Trim() != "timestamp,value")
                {
                    throw new InvalidDataException(path + ":1: header is '" + line + "'; it must be 'timestamp,value'");
                }

                continue;
            }

            if (line.Length == 0)
            {
                continue;
            }

            var span = line.AsSpan().TrimEnd();
            var comma = span.IndexOf(',');
            if (comma < 0 || !TryParseTimestamp(span[..comma], out var t)
                || !double.TryParse(span[(comma + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
            {
                throw new InvalidDataException(path + ":" + lineNo.ToString(CultureInfo.InvariantCulture) + ": '" + line + "' is not 'yyyy-MM-dd HH:mm:ss,<finite number>'");
            }

            timestamps.Add(t);
            values.Add(v);
        }

        return new NabSeries(relativePath, timestamps, values, windows);
    }
}
