using AnomalyZT.Grains.Detectors;
using AnomalyZT.Grains.Detectors.SpectralResidual;
using AnomalyZT.Grains.Detectors.TimeSeries;

namespace AnomalyZT.Silo.Nab;

/// <summary>Library detectors as NAB detectors: each turns one row into an anomaly score in [0, 1], streaming.</summary>
public static class NabDetectors
{
    /// <summary>Detector names the <c>nab</c> command accepts.</summary>
    public static readonly string[] Names = ["novelty", "spike-ssa", "iid-spike", "iid-spike-diff", "iid-changepoint", "sr", "ssa-spike", "ensemble", "combo"];

    /// <summary>A factory from the <c>nab</c> section of <c>detectors.yaml</c>.</summary>
    /// <remarks><c>history</c> applies to the spike detectors and <c>sr_window</c> to the spectral residual;
    /// novelty, iid-changepoint and ensemble run at their reference defaults.</remarks>
    public static Func<INabDetector> Factory(Grains.Config.NabSettings settings)
    {
        Func<INabDetector> inner = settings.Detector switch
        {
            "combo" => () => new ComboScore(settings.History, settings.SrWindow),
            "novelty" => () => new NoveltyNabDetector(),
            "iid-spike" => () => new IidSpikeScore(settings.History),
            "iid-spike-diff" => () => new IidSpikeDiffScore(settings.History),
            "sr" => () => new SrScore(settings.SrWindow),
            "spike-ssa" => () => new SpikeSsaScore(settings.History),
            "ssa-spike" => () => new SsaSpikeScore(settings.History),
            _ => Factory(settings.Detector, likelihood: false),
        };
        Func<INabDetector> scored = settings.Likelihood ? () => new AnomalyLikelihood(inner()) : inner;
        return settings.Suppress <= 0 ? scored : () => new Suppressed(scored(), settings.Cut, settings.Suppress, settings.Rearm);
    }

    /// <summary>A factory of fresh detectors (one per series) for <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">Unknown name.</exception>
    public static Func<INabDetector> Factory(string name, bool likelihood, double cut = 0, int suppress = 0)
    {
        var inner = Factory(name, likelihood);
        return suppress <= 0 ? inner : () => new Suppressed(inner(), cut, suppress, double.PositiveInfinity);
    }

    private static Func<INabDetector> Factory(string name, bool likelihood) => name switch
    {
        "iid-spike" => () => Wrap(new IidSpikeScore(), likelihood),
        "iid-spike-diff" => () => Wrap(new IidSpikeDiffScore(), likelihood),
        "iid-changepoint" => () => Wrap(new IidChangeScore(), likelihood),
        "sr" => () => Wrap(new SrScore(), likelihood),
        "ssa-spike" => () => Wrap(new SsaSpikeScore(), likelihood),
        "ensemble" => () => Wrap(new EnsembleScore(), likelihood),
        _ => throw new ArgumentException($"detector '{name}' is unknown; allowed: {string.Join(", ", Names)}"),
    };

    private static INabDetector Wrap(INabDetector raw, bool likelihood) => likelihood ? new AnomalyLikelihood(raw) : raw;

    private sealed class IidSpikeScore(int history = 200) : INabDetector
    {
        private readonly IidSpikeDetector _detector = new(99, history, AnomalySide.TwoSided);

        public double Score(DateTime timestamp, double value) => PScore(_detector.Update(value).PValue);
    }

    private sealed class IidSpikeDiffScore(int history = 200) : INabDetector
    {
        private readonly IidSpikeDetector _level = new(99, history, AnomalySide.TwoSided);
        private readonly IidSpikeDetector _diff = new(99, history, AnomalySide.TwoSided);
        private double _previous = double.NaN;

        public double Score(DateTime timestamp, double value)
        {
            var level = PScore(_level.Update(value).PValue);
            var diff = double.IsNaN(_previous) ? 0 : PScore(_diff.Update(value - _previous).PValue);
            _previous = value;
            return Math.Max(level, diff);
        }
    }

    /// <summary>Reports a detection only when no other was reported in the last <c>rows</c> rows: NAB credits only the
    /// first detection in a window and charges every other one outside windows, so repeats are pure cost.</summary>
    private sealed class Suppressed(INabDetector inner, double cut, int rows, double rearm) : INabDetector
    {
        private int _quiet;
        private double _last;

        public double Score(DateTime timestamp, double value)
        {
            var s = inner.Score(timestamp, value);
            if (_quiet > 0)
            {
                _quiet--;
                // A clearly stronger signal re-arms: a weak false alarm must not hide the real onset behind it.
                if (s >= cut && s >= _last + rearm)
                {
                    _quiet = rows;
                    _last = s;
                    return s;
                }

                return 0;
            }

            if (s >= cut)
            {
                _quiet = rows;
                _last = s;
                return s;
            }

            return 0;
        }
    }

    private sealed class IidChangeScore : INabDetector
    {
        private readonly IidChangePointDetector _detector = new(95, 20, MartingaleType.Mixture);

        public double Score(DateTime timestamp, double value)
        {
            var o = _detector.Update(value);
            // Martingale relative to its alert threshold, on a log scale: 1 at τ and above.
            return double.IsNaN(o.MartingaleValue) ? 0 : Math.Clamp(Math.Log(Math.Max(o.MartingaleValue, 1)) / Math.Log(_detector.Threshold), 0, 1);
        }
    }

    /// <summary>Level and change spikes plus the spectral residual: the strongest of the three.</summary>
    private sealed class ComboScore(int history, int srWindow) : INabDetector
    {
        private readonly IidSpikeDiffScore _spikes = new(history);
        private readonly SrScore _sr = new(srWindow);

        public double Score(DateTime timestamp, double value) => Math.Max(_spikes.Score(timestamp, value), _sr.Score(timestamp, value));
    }

    private sealed class SrScore(int window = 64) : INabDetector
    {
        private readonly SrStreamingDetector _detector = new(window);

        public double Score(DateTime timestamp, double value) => Math.Clamp(_detector.Update(value).RawScore, 0, 1);
    }

    /// <summary>Level and one-step-change spikes plus the SSA forecast-error spike: the strongest of them.</summary>
    private sealed class SpikeSsaScore(int history) : INabDetector
    {
        private readonly IidSpikeDiffScore _spikes = new(history);
        private readonly SsaSpikeScore _ssa = new(history);

        public double Score(DateTime timestamp, double value) => Math.Max(_spikes.Score(timestamp, value), _ssa.Score(timestamp, value));
    }

    private sealed class SsaSpikeScore(int history = 100) : INabDetector
    {
        private readonly SsaSpikeDetector _detector = new(99, history, 100, 10, AnomalySide.TwoSided);

        public double Score(DateTime timestamp, double value) => PScore(_detector.Update(value).PValue);
    }

    /// <summary>The strongest of the spike, spectral-residual and change-point views.</summary>
    private sealed class EnsembleScore : INabDetector
    {
        private readonly IidSpikeScore _spike = new();
        private readonly SrScore _sr = new();
        private readonly IidChangeScore _change = new();

        public double Score(DateTime timestamp, double value) =>
            Math.Max(_spike.Score(timestamp, value), Math.Max(_sr.Score(timestamp, value), _change.Score(timestamp, value)));
    }

    /// <summary>1 − p on a log scale, so that p = 1e-8 (the clamp) maps to 1 and p ≥ 0.5 to 0.</summary>
    private static double PScore(double p) =>
        double.IsNaN(p) ? 0 : Math.Clamp(Math.Log(Math.Max(p, 1e-8) / 0.5) / Math.Log(1e-8 / 0.5), 0, 1);
}

/// <summary>Anomaly likelihood (after Ahmad et al. 2017, Neurocomputing): how unusual the recent average raw score is
/// compared with the distribution of raw scores over a long history, as a Gaussian tail probability.</summary>
/// <remarks>Raw scores are averaged over the last 10 rows; their mean and deviation over the last 8640 rows form the
/// reference. The output is 1 − tail, mapped to a log scale so the sweep can separate the extreme end.</remarks>
public sealed class AnomalyLikelihood(INabDetector raw) : INabDetector
{
    private const int History = 8640;
    private const int Short = 10;
    private const int Learning = 300;
    private readonly double[] _history = new double[History];
    private readonly double[] _recent = new double[Short];
    private int _count;
    private double _sum;
    private double _sumSq;
    private double _recentSum;

    /// <inheritdoc />
    public double Score(DateTime timestamp, double value)
    {
        var a = raw.Score(timestamp, value);
        var slot = _count % History;
        if (_count >= History)
        {
            var old = _history[slot];
            _sum -= old;
            _sumSq -= old * old;
        }

        _history[slot] = a;
        _sum += a;
        _sumSq += a * a;
        var r = _count % Short;
        _recentSum += a - _recent[r];
        _recent[r] = a;
        _count++;
        if (_count < Learning)
        {
            return 0;
        }

        var n = Math.Min(_count, History);
        var mean = _sum / n;
        var sd = Math.Sqrt(Math.Max((_sumSq / n) - (mean * mean), 0));
        sd = Math.Max(sd, 1e-4);
        var z = ((_recentSum / Short) - mean) / sd;
        var tail = Normal.UpperTail(z);
        var likelihood = 1 - tail;
        // log(1 − L)/log(1e-10): 0.99 → 0.2, 0.99999 → 0.5, 1 − 1e-10 → 1.
        return Math.Clamp(Math.Log(Math.Max(1.0000000001 - likelihood, 1e-10)) / Math.Log(1e-10), 0, 1);
    }
}
