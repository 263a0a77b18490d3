using System.Collections.ObjectModel;
using System.Globalization;
using System.Text;

namespace AnomalyZT.Silo.Nab;

/// <summary>The result of one NAB run: per profile, the normalised score, optimised threshold, raw score and counts.</summary>
public sealed class NabReport
{
    /// <summary>Creates a report.</summary>
    public NabReport(string detectorName, int fileCount, int rowCount, int windowCount, TimeSpan elapsed, IReadOnlyList<NabProfileResult> profiles)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(detectorName);
        ArgumentNullException.ThrowIfNull(profiles);
        DetectorName = detectorName;
        FileCount = fileCount;
        RowCount = rowCount;
        WindowCount = windowCount;
        Elapsed = elapsed;
        Profiles = Array.AsReadOnly(profiles.ToArray());
    }

    /// <summary>The detector's name.</summary>
    public string DetectorName { get; }

    /// <summary>The number of files run.</summary>
    public int FileCount { get; }

    /// <summary>The number of rows run.</summary>
    public int RowCount { get; }

    /// <summary>The number of scored windows.</summary>
    public int WindowCount { get; }

    /// <summary>Wall time of the run, scoring included.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>The result per profile, in <see cref="NabProfile.All"/> order.</summary>
    public ReadOnlyCollection<NabProfileResult> Profiles { get; }

    /// <summary>The result under the profile named <paramref name="profileName"/> (e.g. <c>standard</c>).</summary>
    /// <exception cref="KeyNotFoundException">No such profile in this report.</exception>
    public NabProfileResult this[string profileName]
    {
        get
        {
            foreach (var p in Profiles)
            {
                if (p.Profile.Name == profileName)
                {
                    return p;
                }
            }

            throw new KeyNotFoundException("profile '" + profileName + "' is not in this report");
        }
    }

    /// <summary>A table: one line per profile with the normalised score, threshold, raw/null/perfect scores and TP/FP/FN.</summary>
    public override string ToString()
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(c, $"NAB: detector '{DetectorName}', {FileCount} files, {RowCount} rows, {WindowCount} windows, {Elapsed.TotalSeconds:F1} s").Append('\n');
        sb.Append(c, $"{"profile",-20} {"score",8} {"threshold",10} {"raw",10} {"null",10} {"perfect",10} {"TP",5} {"FP",7} {"FN",5}").Append('\n');
        foreach (var p in Profiles)
        {
            var b = p.Best;
            sb.Append(c, $"{p.Profile.Name,-20} {p.NormalizedScore,8:F2} {b.Threshold,10:G6} {b.RawScore,10:F3} {p.NullScore,10:F3} {p.PerfectScore,10:F3} {b.TruePositives,5} {b.FalsePositives,7} {b.FalseNegatives,5}").Append('\n');
        }

        return sb.ToString();
    }
}
