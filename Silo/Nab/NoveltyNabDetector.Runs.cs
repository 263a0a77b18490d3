namespace AnomalyZT.Silo.Nab;

// The parts of NoveltyNabDetector that look at runs of rows rather than one row: level novelty (a rolling median above
// every earlier one) and flat novelty (a run of equal values longer than any before).
public sealed partial class NoveltyNabDetector
{
    private const double LevelCap = 0.3;
    private const double FlatEvidenceUnits = 2;
    private readonly List<double> _levelSorted = [];
    private double _levelMin = double.PositiveInfinity;
    private double _levelMax = double.NegativeInfinity;
    private int _run;
    private int _longestRun;
    private bool _runReported;

    // Slides the sorted window of the last LevelRows rows and updates the all-time range of their medians on every row
    // (the warm-up included); returns the evidence: how far the median rises above every earlier median.
    private double LevelEvidence(bool scoring)
    {
        var rows = _o.LevelRows;
        var n = _values.Count;
        if (rows <= 0)
        {
            return 0;
        }

        Insert(_levelSorted, _values[n - 1]);
        if (_levelSorted.Count > rows)
        {
            _levelSorted.RemoveAt(_levelSorted.BinarySearch(_values[n - 1 - rows]));
        }

        if (n < rows)
        {
            return 0;
        }

        var median = _levelSorted[rows / 2];
        var range = _levelMax - _levelMin;
        var evidence = 0.0;
        if (scoring && range > 0 && median > _levelMax)
        {
            evidence = Math.Min((median - _levelMax) / range, LevelCap) / _o.LevelCut;
        }

        _levelMin = Math.Min(_levelMin, median);
        _levelMax = Math.Max(_levelMax, median);
        return evidence;
    }

    // Tracks the current run of equal values and the longest run before it; reports once per run, when the run
    // becomes FlatFactor times as long as the longest earlier one (and at least FlatRows long).
    private double FlatEvidence(bool scoring)
    {
        var n = _values.Count;
        if (_o.FlatFactor <= 0)
        {
            return 0;
        }

        if (n >= 2 && _values[n - 1].Equals(_values[n - 2]))
        {
            _run++;
        }
        else
        {
            _longestRun = Math.Max(_longestRun, _run);
            _run = 1;
            _runReported = false;
        }

        // A series flat from its first row has no earlier run to compare with: it is never reported.
        if (scoring && !_runReported && _longestRun > 0 && _run >= Math.Max(_o.FlatRows, _o.FlatFactor * _longestRun))
        {
            _runReported = true;
            return FlatEvidenceUnits;
        }

        return 0;
    }
}
