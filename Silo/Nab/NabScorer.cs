namespace AnomalyZT.Silo.Nab;

// NAB scoring, written from the published description: Lavin & Ahmad, "Evaluating Real-time Anomaly
// Detection Algorithms – the Numenta Anomaly Benchmark", ICMLA 2015 (arXiv:1510.03336), section
// "Scoring"; the NAB wiki/README; and the rules as NAB v1.1 applies them (config/profiles.json,
// nab/sweeper.py, nab/runner.py `normalize`). The rules, each with its source:
//
// 1. Probation (paper: "the first 15% of each data file"; sweeper: min(floor(0.15·n), 0.15·5000)):
//    the first min(⌊0.15·n⌋, 750) rows of an n-row file are dropped from scoring — a detection
//    there is neither a TP nor an FP. A window with no row after probation is not scored at all.
// 2. Windows (labels/combined_windows.json): [start, end] timestamps of rows; a window covers its
//    rows start..end inclusive. NAB matches timestamps exactly; here a window covers the first row at
//    or after start through the last row before one past end, which is the same on NAB's corpus
//    (every boundary is a row timestamp) and defined for hand-made labels.
// 3. Scaled sigmoid (paper, eq. 1): σ(y) = 2/(1 + e^{5y}) − 1 for y ≤ 3, and −1 for y > 3
//    (equivalently −tanh(2.5·y)): σ(−1) = 0.98661, σ(−0.5) = 0.84828, σ(0) = 0, σ(1) = −0.98661.
// 4. True positive (paper: only the first detection in a window counts; sweeper: weighted by
//    σ(−1)): a row i of a window of rows a..b, width W = b − a + 1, has relative position
//    y = −(b − i + 1)/W (−1 on the first row, −1/W on the last) and scores A_TP·σ(y)/σ(−1), so a
//    detection on the window's first row scores exactly A_TP. A window scores its best detected
//    row, which is its earliest detection because σ falls with y.
// 5. False positive (paper: weighted by the sigmoid relative to the preceding window): a detection
//    at row i outside every window, after a window that ended on row b with width W, scores
//    A_FP·σ((i − b)/(W − 1)) — about 0 just past the window, −A_FP from three window-lengths on.
//    Before the file's first window it scores −A_FP. (NAB divides by W − 1; W = 1 uses 1.)
// 6. False negative: a scored window without a detection scores −A_FN. True negatives score 0
//    (NAB's profiles carry A_TN = 1 but the scoring never uses it).
// 7. Profiles (config/profiles.json): standard A_TP 1, A_FP 0.11, A_FN 1; reward_low_FP_rate
//    A_FP 0.22; reward_low_FN_rate A_FN 2.0. See NabProfile.
// 8. Detection: a row is a detection when its anomaly score ≥ the threshold.
// 9. Threshold optimisation (paper: one threshold per detector and profile over the whole corpus;
//    NAB's sweep, used here): start above every score (1.1, no detections), then lower the threshold
//    to each distinct anomaly score in turn, highest first, adding that score's rows; keep the
//    threshold whose corpus raw score (sum over files) is highest; ties go to the highest threshold,
//    the first one the descending sweep meets, as in NAB.
// 10. Normalisation (paper; runner.normalize): 100·(S − S_null)/(S_perfect − S_null), with S_null the
//    score of a detector that never alerts (−A_FN per window) and S_perfect that of one alerting
//    exactly on each window's first row (A_TP per window). NAB counts every labelled window in
//    S_perfect; here the scored windows (rule 1), the same on NAB's corpus.

/// <summary>NAB's scoring: raw score at a threshold, threshold optimisation and normalisation. Pure and thread-safe.</summary>
public static class NabScorer
{
    /// <summary>The share of each file that is the probation period.</summary>
    public const double ProbationPercent = 0.15;

    /// <summary>The largest probation period, in rows (NAB: 15% of 5000).</summary>
    public const int MaxProbationRows = 750;

    /// <summary>The sweep's starting threshold: above every anomaly score, so nothing is detected.</summary>
    public const double NoDetectionThreshold = 1.1;

    /// <summary>The probation period of an <paramref name="rows"/>-row file: min(⌊0.15·rows⌋, 750).</summary>
    public static int ProbationLength(int rows) => Math.Min((int)Math.Floor(ProbationPercent * rows), MaxProbationRows);

    /// <summary>NAB's scaled sigmoid: 2/(1 + e^(5y)) − 1 for y ≤ 3, −1 beyond.</summary>
    public static double ScaledSigmoid(double relativePosition) =>
        relativePosition > 3.0 ? -1.0 : (2.0 / (1.0 + Math.Exp(5.0 * relativePosition))) - 1.0;

    /// <summary>The rows each window covers (rule 2), in start order; windows that cover no row are left out.</summary>
    public static IReadOnlyList<NabWindowRows> LocateWindows(IReadOnlyList<DateTime> timestamps, IReadOnlyList<NabWindow> windows)
    {
        ArgumentNullException.ThrowIfNull(timestamps);
        ArgumentNullException.ThrowIfNull(windows);
        var sorted = windows.ToArray();
        Array.Sort(sorted, static (a, b) => a.Start.CompareTo(b.Start));
        var result = new List<NabWindowRows>(sorted.Length);
        var n = timestamps.Count;
        var i = 0;
        foreach (var w in sorted)
        {
            while (i < n && timestamps[i] < w.Start)
            {
                i++;
            }

            if (i >= n)
            {
                break;
            }

            if (timestamps[i] > w.End)
            {
                continue;
            }

            var last = i;
            while (last + 1 < n && timestamps[last + 1] <= w.End)
            {
                last++;
            }

            result.Add(new NabWindowRows(i, last));
            i = last + 1;
        }

        return result;
    }

    /// <summary>The corpus raw score and counts when every row scoring ≥ <paramref name="threshold"/> is a detection.</summary>
    public static NabThresholdScore ScoreAt(IReadOnlyList<NabFileScores> files, NabProfile profile, double threshold) =>
        ScoreAt(new NabSweep(files), profile, threshold);

    /// <summary>The corpus raw score and counts when every row scoring ≥ <paramref name="threshold"/> is a detection.</summary>
    public static NabThresholdScore ScoreAt(NabSweep sweep, NabProfile profile, double threshold)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        ArgumentNullException.ThrowIfNull(profile);
        var acc = new Accumulator(sweep.WindowCount);
        var anomaly = sweep.Anomaly;
        var k = 0;
        while (k < anomaly.Length && anomaly[k] >= threshold)
        {
            acc.Add(sweep.Weight[k], sweep.Window[k]);
            k++;
        }

        return acc.Result(threshold, profile, sweep.WindowCount);
    }

    /// <summary>The threshold with the highest corpus raw score under <paramref name="profile"/> (rule 9), with that score.</summary>
    public static NabThresholdScore Optimize(IReadOnlyList<NabFileScores> files, NabProfile profile) =>
        Optimize(new NabSweep(files), profile);

    /// <summary>The threshold with the highest corpus raw score under <paramref name="profile"/> (rule 9), with that score.</summary>
    public static NabThresholdScore Optimize(NabSweep sweep, NabProfile profile)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        ArgumentNullException.ThrowIfNull(profile);
        var acc = new Accumulator(sweep.WindowCount);
        var best = acc.Result(NoDetectionThreshold, profile, sweep.WindowCount);
        var anomaly = sweep.Anomaly;
        var k = 0;
        while (k < anomaly.Length)
        {
            var threshold = anomaly[k];
            while (k < anomaly.Length && anomaly[k] == threshold)
            {
                acc.Add(sweep.Weight[k], sweep.Window[k]);
                k++;
            }

            var score = acc.Result(threshold, profile, sweep.WindowCount);
            if (score.RawScore > best.RawScore)
            {
                best = score;
            }
        }

        return best;
    }

    /// <summary>The raw score of the detector that never alerts: −A_FN per scored window.</summary>
    public static double NullScore(NabSweep sweep, NabProfile profile)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        ArgumentNullException.ThrowIfNull(profile);
        return -profile.FalseNegativeWeight * sweep.WindowCount;
    }

    /// <summary>The raw score of the detector that alerts exactly on each window's first row: A_TP per scored window.</summary>
    public static double PerfectScore(NabSweep sweep, NabProfile profile)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        ArgumentNullException.ThrowIfNull(profile);
        return profile.TruePositiveWeight * sweep.WindowCount;
    }

    /// <summary>100·(raw − null)/(perfect − null): 0 for the null detector, 100 for the perfect one.</summary>
    /// <exception cref="ArgumentException">perfect ≤ null, as when the corpus has no scored window.</exception>
    public static double Normalize(double rawScore, double nullScore, double perfectScore)
    {
        if (!(perfectScore > nullScore))
        {
            throw new ArgumentException("perfect score " + perfectScore.ToString(System.Globalization.CultureInfo.InvariantCulture) + " is not above the null score; normalisation needs at least one scored window and A_TP + A_FN > 0", nameof(perfectScore));
        }

        return 100.0 * (rawScore - nullScore) / (perfectScore - nullScore);
    }

    /// <summary>Optimises the threshold under <paramref name="profile"/> and normalises the best score.</summary>
    public static NabProfileResult Evaluate(NabSweep sweep, NabProfile profile)
    {
        var best = Optimize(sweep, profile);
        var nullScore = NullScore(sweep, profile);
        var perfect = PerfectScore(sweep, profile);
        return new NabProfileResult(profile, Normalize(best.RawScore, nullScore, perfect), best, nullScore, perfect);
    }

    // Running sums of a descending sweep. TP and FP parts are kept unweighted so one sweep order gives
    // every profile the same arithmetic; ScoreAt and Optimize therefore agree bit for bit.
    private struct Accumulator(int windows)
    {
        private readonly double[] _best = CreateBest(windows);
        private double _tp;
        private double _fp;
        private int _detected;
        private int _falsePositives;

        public void Add(double weight, int window)
        {
            if (window < 0)
            {
                _fp += weight;
                _falsePositives++;
            }
            else if (double.IsNaN(_best[window]))
            {
                _best[window] = weight;
                _tp += weight;
                _detected++;
            }
            else if (weight > _best[window])
            {
                _tp += weight - _best[window];
                _best[window] = weight;
            }
        }

        public readonly NabThresholdScore Result(double threshold, NabProfile profile, int windows)
        {
            var missed = windows - _detected;
            var raw = (profile.TruePositiveWeight * _tp) + (profile.FalsePositiveWeight * _fp) - (profile.FalseNegativeWeight * missed);
            return new NabThresholdScore(threshold, raw, _detected, _falsePositives, missed);
        }

        private static double[] CreateBest(int windows)
        {
            var best = new double[windows];
            Array.Fill(best, double.NaN);
            return best;
        }
    }
}
