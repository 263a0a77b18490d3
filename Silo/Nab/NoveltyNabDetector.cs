namespace AnomalyZT.Silo.Nab;

/// <summary>Parameters of <see cref="NoveltyNabDetector"/>; the defaults are the corpus-wide NAB tuning.</summary>
/// <remarks>Every <c>*Cut</c> is the part score that counts as one unit of evidence: a part's evidence is its score
/// divided by its cut, and the detector reports <c>g/(1 + g)</c> for the largest evidence <c>g</c> (0.5 at a cut).</remarks>
public sealed record NoveltyOptions
{
    /// <summary>Rows seen before any part scores (the learning period).</summary>
    public int Warmup { get; init; } = 150;

    /// <summary>Global range novelty: excess beyond the all-time running [min, max], as a share of that range,
    /// that counts as one unit of evidence.</summary>
    public double GlobalCut { get; init; } = 0.006;

    /// <summary>The global excess is capped at this share of the range (keeps the evidence bounded).</summary>
    public double GlobalCap { get; init; } = 0.3;

    /// <summary>Recent range novelty: the number of preceding rows whose [min, max] is the reference.</summary>
    public int RecentRows { get; init; } = 400;

    /// <summary>Recent range novelty: excess beyond the recent [min, max], as a share of the recent range (capped
    /// at 1), that counts as one unit of evidence.</summary>
    public double RecentCut { get; init; } = 0.35;

    /// <summary>Recent range novelty counts only when the value is within <see cref="RecentSlack"/> (a share of
    /// the all-time range) of the extreme of this many preceding rows: a burst must stand out over a longer span too.</summary>
    public int LongRows { get; init; } = 1000;

    /// <summary>See <see cref="LongRows"/>.</summary>
    public double RecentSlack { get; init; } = 0.25;

    /// <summary>Context novelty: levels the running range is quantised into.</summary>
    public int Levels { get; init; } = 10;

    /// <summary>Context novelty: block means in a context word (at most 10).</summary>
    public int Blocks { get; init; } = 2;

    /// <summary>Context novelty: rows per block mean.</summary>
    public int BlockRows { get; init; } = 2;

    /// <summary>Context novelty: distance (L∞, as a share of the levels) from the current word to the nearest word
    /// seen before that counts as one unit of evidence.</summary>
    public double ContextCut { get; init; } = 0.17;
}

/// <summary>
/// A streaming NAB detector built from three kinds of novelty, each self-normalised by the series' own running
/// range, so one configuration fits every series: (1) global range novelty — the value goes beyond everything seen
/// so far (Numenta's "spatial anomaly"); (2) recent range novelty — the value goes well beyond the [min, max] of the
/// last few hundred rows and is near the top (or bottom) of a longer span too, which catches a burst after an earlier,
/// larger one; (3) context novelty — the last few block means, quantised over the running range, form a word whose
/// nearest previously seen word is far away (a new shape at a known level, in the spirit of contextual detectors).
/// Reports <c>g/(1 + g)</c> for the strongest evidence <c>g</c>; suppression of repeats is left to the caller.
/// </summary>
/// <remarks>
/// No look-ahead: every quantity is a running one (all-time min/max, sliding extremes, words already seen). Memory is
/// the series itself (the context words are re-quantised from it when the range grows) plus the distinct words.
/// </remarks>
public sealed class NoveltyNabDetector : INabDetector
{
    private const int MaxBlocks = 10;
    private const int LevelBase = 64;

    private readonly NoveltyOptions _o;
    private readonly List<double> _values = [];
    private readonly List<double> _prefix = [0];
    private readonly SlidingExtreme _recentMax;
    private readonly SlidingExtreme _recentMin;
    private readonly SlidingExtreme _longMax;
    private readonly SlidingExtreme _longMin;
    private readonly HashSet<long> _seen = [];
    private readonly List<byte> _words = [];
    private readonly byte[] _current;
    private double _min = double.PositiveInfinity;
    private double _max = double.NegativeInfinity;
    private double _qmin;
    private double _qmax;

    /// <summary>Creates a detector with the corpus-wide defaults.</summary>
    public NoveltyNabDetector()
        : this(new NoveltyOptions())
    {
    }

    /// <summary>Creates a detector.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of range.</exception>
    public NoveltyNabDetector(NoveltyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(options.Warmup, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.RecentRows, 2, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.LongRows, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Levels, 2, nameof(options));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.Levels, LevelBase - 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Blocks, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.Blocks, MaxBlocks, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BlockRows, 1, nameof(options));
        if (!(options.GlobalCut > 0 && options.RecentCut > 0 && options.ContextCut > 0 && options.GlobalCap > 0 && options.RecentSlack >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(options), "cuts and the cap must be positive and the slack not negative");
        }

        _o = options;
        _recentMax = new SlidingExtreme(options.RecentRows - 1, max: true);
        _recentMin = new SlidingExtreme(options.RecentRows - 1, max: false);
        _longMax = new SlidingExtreme(options.LongRows, max: true);
        _longMin = new SlidingExtreme(options.LongRows, max: false);
        _current = new byte[options.Blocks];
    }

    /// <inheritdoc />
    public double Score(DateTime timestamp, double value)
    {
        if (!double.IsFinite(value))
        {
            return 0;
        }

        var index = _values.Count;
        _values.Add(value);
        _prefix.Add(_prefix[^1] + value);
        var scoring = index >= _o.Warmup;
        var evidence = 0.0;
        if (scoring)
        {
            evidence = Math.Max(GlobalEvidence(value), RecentEvidence(value));
        }

        if (value < _min)
        {
            _min = value;
        }

        if (value > _max)
        {
            _max = value;
        }

        // The context part learns from the first row it can form a word; it scores like the others after the warm-up.
        var context = ContextEvidence(scoring);
        evidence = Math.Max(evidence, context);
        _recentMax.Add(index, value);
        _recentMin.Add(index, value);
        _longMax.Add(index, value);
        _longMin.Add(index, value);
        return evidence / (1 + evidence);
    }

    private double GlobalEvidence(double value)
    {
        var range = _max - _min;
        if (!(range > 0))
        {
            return 0;
        }

        var excess = Math.Max(value - _max, _min - value) / range;
        return excess <= 0 ? 0 : Math.Min(excess, _o.GlobalCap) / _o.GlobalCut;
    }

    private double RecentEvidence(double value)
    {
        if (_recentMax.IsEmpty)
        {
            return 0;
        }

        var max = _recentMax.Value;
        var min = _recentMin.Value;
        var range = max - min;
        if (!(range > 0))
        {
            return 0;
        }

        var up = value - max >= min - value;
        var excess = Math.Max(value - max, min - value) / range;
        if (excess <= 0)
        {
            return 0;
        }

        var slack = _o.RecentSlack * (_max - _min);
        if (up ? value < _longMax.Value - slack : value > _longMin.Value + slack)
        {
            return 0;
        }

        return Math.Min(excess, 1) / _o.RecentCut;
    }

    private double ContextEvidence(bool scoring)
    {
        var n = _values.Count;
        if (n < _o.Blocks * _o.BlockRows || !(_max > _min))
        {
            return 0;
        }

        if (_max - _min > _qmax - _qmin)
        {
            Requantise();
        }

        var key = Word(n - 1, _current);
        if (!_seen.Add(key))
        {
            return 0;
        }

        var best = NearestDistance();
        _words.AddRange(_current);
        return scoring && best < int.MaxValue ? Math.Min((double)best / _o.Levels, 1) / _o.ContextCut : 0;
    }

    // The L∞ distance, in levels, from the current word to the nearest stored one (int.MaxValue when none).
    private int NearestDistance()
    {
        var k = _o.Blocks;
        var best = int.MaxValue;
        for (var w = 0; w + k <= _words.Count && best > 1; w += k)
        {
            var d = 0;
            for (var b = 0; b < k && d < best; b++)
            {
                d = Math.Max(d, Math.Abs(_words[w + b] - _current[b]));
            }

            best = Math.Min(best, d);
        }

        return best;
    }

    // Re-learns every word but the current one over the new range.
    private void Requantise()
    {
        _qmin = _min;
        _qmax = _max;
        _seen.Clear();
        _words.Clear();
        for (var t = (_o.Blocks * _o.BlockRows) - 1; t < _values.Count - 1; t++)
        {
            if (_seen.Add(Word(t, _current)))
            {
                _words.AddRange(_current);
            }
        }
    }

    private long Word(int end, byte[] into)
    {
        long key = 0;
        for (var b = 0; b < _o.Blocks; b++)
        {
            var last = end - (b * _o.BlockRows);
            var mean = (_prefix[last + 1] - _prefix[last + 1 - _o.BlockRows]) / _o.BlockRows;
            var level = Math.Clamp((int)Math.Floor((mean - _qmin) / (_qmax - _qmin) * _o.Levels), 0, _o.Levels - 1);
            into[b] = (byte)level;
            key = (key * LevelBase) + level + 1;
        }

        return key;
    }

    /// <summary>The maximum (or minimum) of the last <c>rows</c> values added: a monotonic deque over a ring buffer.</summary>
    private sealed class SlidingExtreme(int rows, bool max)
    {
        private readonly int[] _index = new int[rows + 1];
        private readonly double[] _value = new double[rows + 1];
        private int _head;
        private int _count;

        public bool IsEmpty => _count == 0;

        public double Value => _value[_head];

        public void Add(int index, double value)
        {
            var cap = _index.Length;
            while (_count > 0 && _index[_head] <= index - rows)
            {
                _head = (_head + 1) % cap;
                _count--;
            }

            while (_count > 0)
            {
                var tail = (_head + _count - 1) % cap;
                if (max ? _value[tail] > value : _value[tail] < value)
                {
                    break;
                }

                _count--;
            }

            var slot = (_head + _count) % cap;
            _index[slot] = index;
            _value[slot] = value;
            _count++;
        }
    }
}
