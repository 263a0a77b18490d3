using System.Runtime.InteropServices;

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

    /// <summary>Recent range novelty is weighed against the largest recent excess of this many preceding rows: a series
    /// whose bursts routinely overshoot their recent range earns less evidence for one more such burst.</summary>
    public int ExcessRows { get; init; } = 1000;

    /// <summary>An excess below this share of the largest preceding one (see <see cref="ExcessRows"/>) is attenuated.</summary>
    public double ExcessShare { get; init; } = 0.5;

    /// <summary>The attenuation is (excess / (share · largest))^power; 0 turns it off.</summary>
    public double ExcessPower { get; init; } = 1;

    /// <summary>Seasonal novelty: the |value − value one period ago| beyond its running maximum (since the period was
    /// found), as a share of the running range, that counts as one unit of evidence.</summary>
    public double SeasonalCut { get; init; } = 0.03;

    /// <summary>Seasonal novelty: the longest period looked for, in rows; 0 turns the part off.</summary>
    public int MaxPeriod { get; init; } = 700;

    /// <summary>Seasonal novelty: the period is re-estimated every this many rows (from the last 3·<see cref="MaxPeriod"/> rows).</summary>
    public int PeriodEvery { get; init; } = 1000;

    /// <summary>Seasonal novelty: the smallest autocorrelation at a peak for a period to be accepted.</summary>
    public double MinAutocorrelation { get; init; } = 0.75;

    /// <summary>Quantile novelty: the number of preceding rows whose quantiles are the reference; 0 turns the part off.</summary>
    public int QuantileRows { get; init; } = 400;

    /// <summary>Quantile novelty: the upper quantile of the reference rows (the lower one is 1 − this); their
    /// difference is the spread.</summary>
    public double Quantile { get; init; } = 0.97;

    /// <summary>Quantile novelty: the smallest excess over the upper quantile, in spreads, that counts at all; it must
    /// also beat every such excess the series produced before.</summary>
    public double QuantileMin { get; init; } = 2;

    /// <summary>Quantile novelty: the excess, in spreads, that counts as one unit of evidence.</summary>
    public double QuantileCut { get; init; } = 1.5;

    /// <summary>Level novelty: rows in the rolling median whose rise above every earlier rolling median is the
    /// evidence; 0 turns the part off.</summary>
    public int LevelRows { get; init; } = 12;

    /// <summary>Level novelty: the rise of the rolling median above its all-time maximum, as a share of the all-time
    /// range of rolling medians, that counts as one unit of evidence.</summary>
    public double LevelCut { get; init; } = 0.04;

    /// <summary>Flat novelty: a run of equal values counts once it is this many times as long as the longest earlier
    /// run; 0 turns the part off.</summary>
    public double FlatFactor { get; init; } = 1.1;

    /// <summary>Flat novelty: the shortest run of equal values, in rows, that counts.</summary>
    public int FlatRows { get; init; } = 100;
}

/// <summary>
/// A streaming NAB detector built from three kinds of novelty, each self-normalised by the series' own running
/// range, so one configuration fits every series: (1) global range novelty — the value goes beyond everything seen
/// so far (Numenta's "spatial anomaly"); (2) recent range novelty — the value goes well beyond the [min, max] of the
/// last few hundred rows and is near the top (or bottom) of a longer span too, which catches a burst after an earlier,
/// larger one; (3) context novelty — the last few block means, quantised over the running range, form a word whose
/// nearest previously seen word is far away (a new shape at a known level, in the spirit of contextual detectors);
/// (4) seasonal novelty — the value differs from the one a period ago more than ever before; (5) quantile novelty — the
/// value rises above the upper quantile of the last few hundred rows by more spreads than ever before in this series
/// (a record for the series itself, so a small but unprecedented rise counts while a routinely bursting series earns
/// nothing for one more burst); (6) level novelty — the median of the last few rows rises above every earlier such
/// median (a sustained rise to a new level, which single spikes cannot fake); (7) flat novelty — the series repeats
/// one value for longer than it ever did before (a silence or a stuck sensor). Reports <c>g/(1 + g)</c> for the strongest evidence <c>g</c>; suppression of repeats is left to the caller.
/// </summary>
/// <remarks>
/// No look-ahead: every quantity is a running one (all-time min/max, sliding extremes, words already seen, the
/// period estimated from rows already seen, the sorted last rows). Memory is the series itself (the context words are
/// re-quantised from it when the range grows) plus the distinct words; the period estimate costs O(3·MaxPeriod²) every
/// PeriodEvery rows and the sorted windows O(QuantileRows + LevelRows) per row.
/// </remarks>
public sealed partial class NoveltyNabDetector : INabDetector
{
    private const int MaxBlocks = 10;
    private const int LevelBase = 64;
    private const double SpreadFloor = 0.01;
    private const double QuantileCap = 10;

    private readonly NoveltyOptions _o;
    private readonly List<double> _values = [];
    private readonly List<double> _prefix = [0];
    private readonly SlidingExtreme _recentMax;
    private readonly SlidingExtreme _recentMin;
    private readonly SlidingExtreme _longMax;
    private readonly SlidingExtreme _longMin;
    private readonly SlidingExtreme _excessMax;
    private readonly Seasonal _seasonal;
    private readonly List<double> _sorted = [];
    private readonly HashSet<long> _seen = [];
    private readonly List<byte> _words = [];
    private readonly byte[] _current;
    private double _min = double.PositiveInfinity;
    private double _max = double.NegativeInfinity;
    private double _qmin;
    private double _qmax;
    private double _quantileRecord;

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
        ArgumentOutOfRangeException.ThrowIfLessThan(options.ExcessRows, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxPeriod, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.PeriodEvery, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfNegative(options.QuantileRows, nameof(options));
        ArgumentOutOfRangeException.ThrowIfNegative(options.LevelRows, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.FlatRows, 1, nameof(options));
        if (!(options.LevelCut > 0 && options.FlatFactor >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(options), "the level cut must be positive and the flat factor not negative");
        }

        if (!(options.Quantile is > 0.5 and < 1 && options.QuantileMin >= 0 && options.QuantileCut > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(options), "the quantile must be in (0.5, 1), the minimum not negative, the cut positive");
        }

        if (!(options.GlobalCut > 0 && options.RecentCut > 0 && options.ContextCut > 0 && options.GlobalCap > 0 && options.RecentSlack >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(options), "cuts and the cap must be positive and the slack not negative");
        }

        if (!(options.SeasonalCut > 0 && options.ExcessShare > 0 && options.ExcessPower >= 0 && options.MinAutocorrelation is > 0 and < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(options), "the seasonal cut and excess share must be positive, the power not negative, the autocorrelation in (0, 1)");
        }

        _o = options;
        _recentMax = new SlidingExtreme(options.RecentRows - 1, max: true);
        _recentMin = new SlidingExtreme(options.RecentRows - 1, max: false);
        _longMax = new SlidingExtreme(options.LongRows, max: true);
        _longMin = new SlidingExtreme(options.LongRows, max: false);
        _current = new byte[options.Blocks];
        _excessMax = new SlidingExtreme(options.ExcessRows, max: true);
        _seasonal = new Seasonal(options);
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
        var recent = RecentEvidence(index, value);
        if (scoring)
        {
            evidence = Math.Max(GlobalEvidence(value), recent);
        }

        // Quantile novelty stands in only where recent range novelty is silent.
        var quantile = QuantileEvidence(index, value, scoring);
        if (recent <= 0 || !scoring)
        {
            evidence = Math.Max(evidence, quantile);
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
        var seasonal = _seasonal.Evidence(_values, _max - _min, scoring);
        evidence = Math.Max(evidence, seasonal);
        evidence = Math.Max(evidence, LevelEvidence(scoring));
        evidence = Math.Max(evidence, FlatEvidence(scoring));
        _recentMax.Add(index, value);
        _recentMin.Add(index, value);
        _longMax.Add(index, value);
        _longMin.Add(index, value);
        return evidence / (1 + evidence);
    }

    // Updates the record excess on every row (the warm-up included) and slides the sorted window; returns the evidence.
    private double QuantileEvidence(int index, double value, bool scoring)
    {
        var rows = _o.QuantileRows;
        if (rows <= 0)
        {
            return 0;
        }

        var evidence = 0.0;
        if (_sorted.Count >= rows / 2 && _max > _min)
        {
            var last = _sorted.Count - 1;
            var high = _sorted[(int)(_o.Quantile * last)];
            var low = _sorted[(int)((1 - _o.Quantile) * last)];
            var spread = Math.Max(high - low, SpreadFloor * (_max - _min));
            var excess = (value - high) / spread;
            if (scoring && excess > _o.QuantileMin && excess > _quantileRecord)
            {
                evidence = Math.Min(excess, QuantileCap) / _o.QuantileCut;
            }

            _quantileRecord = Math.Max(_quantileRecord, excess);
        }

        Insert(_sorted, value);
        if (_sorted.Count > rows)
        {
            _sorted.RemoveAt(_sorted.BinarySearch(_values[index - rows]));
        }

        return evidence;
    }

    private static void Insert(List<double> sorted, double value)
    {
        var at = sorted.BinarySearch(value);
        sorted.Insert(at < 0 ? ~at : at, value);
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

    // Updates the sliding maximum of recent excesses on every row (the warm-up included) and returns the evidence.
    private double RecentEvidence(int index, double value)
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
        var usual = _excessMax.IsEmpty ? 0 : _o.ExcessShare * _excessMax.Value;
        _excessMax.Add(index, Math.Max(excess, 0));
        if (excess <= 0)
        {
            return 0;
        }

        var slack = _o.RecentSlack * (_max - _min);
        if (up ? value < _longMax.Value - slack : value > _longMin.Value + slack)
        {
            return 0;
        }

        // A burst no larger than the ones this series keeps producing is weaker evidence.
        var attenuation = excess >= usual ? 1 : Math.Pow(excess / usual, _o.ExcessPower);
        return Math.Min(excess, 1) / _o.RecentCut * attenuation;
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

    /// <summary>Seasonal novelty: the period is the highest autocorrelation peak past the first zero crossing (re-estimated
    /// now and then from rows already seen); the evidence is how far |x(t) − x(t − period)| beats its running maximum.</summary>
    private sealed class Seasonal(NoveltyOptions o)
    {
        private const int Cycles = 3;
        private const int MinLag = 8;
        private const int LearnCycles = 2;
        private const double DropShare = 0.7;
        private const double KeepShare = 0.9;
        private const double MaxExcess = 0.5;
        private int _period = -1;
        private int _since;
        private double _maxDiff;
        private double[] _acf = [];
        private double[] _centred = [];

        public double Evidence(List<double> values, double range, bool scoring)
        {
            var n = values.Count;
            if (o.MaxPeriod <= 0)
            {
                return 0;
            }

            if (n % o.PeriodEvery == 0)
            {
                Estimate(values);
            }

            if (_period < 0 || n <= _period)
            {
                return 0;
            }

            var diff = Math.Abs(values[n - 1] - values[n - 1 - _period]);
            _since++;
            var evidence = 0.0;
            if (scoring && _since > LearnCycles * _period && diff > _maxDiff && range > 0)
            {
                evidence = Math.Min((diff - _maxDiff) / range, MaxExcess) / o.SeasonalCut;
            }

            _maxDiff = Math.Max(_maxDiff, diff);
            return evidence;
        }

        private void Estimate(List<double> values)
        {
            var n = values.Count;
            var maxLag = Math.Min(o.MaxPeriod, n / Cycles);
            if (maxLag < MinLag)
            {
                return;
            }

            var w = Math.Min(n, Cycles * maxLag);
            var window = CollectionsMarshal.AsSpan(values)[(n - w)..];
            var mean = 0.0;
            foreach (var v in window)
            {
                mean += v;
            }

            mean /= w;
            if (_centred.Length < w)
            {
                _centred = new double[Cycles * o.MaxPeriod];
                _acf = new double[o.MaxPeriod + 1];
            }

            var centred = _centred.AsSpan(0, w);
            for (var i = 0; i < w; i++)
            {
                centred[i] = window[i] - mean;
            }

            var var0 = Dot(centred, centred);
            if (!(var0 > 0 && double.IsFinite(var0)))
            {
                return;
            }

            for (var lag = 1; lag <= maxLag; lag++)
            {
                var c = Dot(centred[lag..], centred[..(w - lag)]);
                _acf[lag] = c / var0 * w / (w - lag);
            }

            var first = 1;
            while (first < maxLag && _acf[first] > 0)
            {
                first++;
            }

            var best = -1;
            var bestAcf = o.MinAutocorrelation;
            for (var lag = first; lag <= maxLag; lag++)
            {
                if (_acf[lag] > bestAcf && _acf[lag] >= _acf[lag - 1] && (lag == maxLag || _acf[lag] >= _acf[lag + 1]))
                {
                    bestAcf = _acf[lag];
                    best = lag;
                }
            }

            if (best < 0)
            {
                if (_period > 0 && _acf[_period] < DropShare * o.MinAutocorrelation)
                {
                    _period = -1;
                }

                return;
            }

            if (_period > 0 && (Math.Abs(best - _period) <= Math.Max(1, _period / 50) || _acf[_period] >= KeepShare * bestAcf))
            {
                return;
            }

            _period = best;
            _since = 0;
            _maxDiff = 0;
        }
    }

    private static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        var sum = 0.0;
        for (var i = 0; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
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
