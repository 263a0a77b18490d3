namespace AnomalyZT.Grains.Detectors.TimeSeries;

/// <summary>One row of a time-series detector's output: ML.NET's <c>[Alert, Raw Score, P-Value Score(, Martingale Score)]</c>.</summary>
/// <param name="Alert">Whether the row is flagged.</param>
/// <param name="RawScore">The raw score (the value for IID detectors, the forecast error for SSA).</param>
/// <param name="PValue">Side-adjusted p-value of the raw score against the history.</param>
/// <param name="MartingaleValue">Change-point martingale value (NaN for spike detectors).</param>
public readonly record struct TimeSeriesOutput(bool Alert, double RawScore, double PValue, double MartingaleValue)
{
    /// <summary>What a NaN input yields: no alert, NaN scores, state untouched.</summary>
    public static TimeSeriesOutput Missing { get; } = new(false, double.NaN, double.NaN, double.NaN);
}

/// <summary>IID spike detector (detectors-spec §1; ML.NET <c>DetectIidSpike</c>): raw score = x, alert when the history is
/// full and p ≤ 1 − confidence/100. Defaults: confidence 99, history 100, two-sided. O(W) per update, no allocation.</summary>
public sealed class IidSpikeDetector : IStreamingDetector
{
    /// <summary>Default confidence, percent.</summary>
    public const double DefaultConfidence = 99;

    /// <summary>Default p-value history length.</summary>
    public const int DefaultHistory = 100;

    private const byte StateVersion = 1;
    private readonly PValueHistory _history;
    private readonly AnomalySide _side;
    private readonly double _alpha;
    private long _rows;

    /// <summary>Creates a detector.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Confidence outside (0, 100) or history &lt; 1.</exception>
    public IidSpikeDetector(double confidence = DefaultConfidence, int pvalueHistoryLength = DefaultHistory, AnomalySide side = AnomalySide.TwoSided)
    {
        if (!(confidence > 0 && confidence < 100))
        {
            throw new ArgumentOutOfRangeException(nameof(confidence), confidence, $"confidence is {confidence}; it must lie in (0, 100)");
        }

        _history = new PValueHistory(pvalueHistoryLength);
        _side = side;
        _alpha = 1 - (confidence / 100);
    }

    /// <summary>Scores one value, then learns it.</summary>
    public TimeSeriesOutput Update(double x)
    {
        if (!double.IsFinite(x))
        {
            return TimeSeriesOutput.Missing; // NaN is missing; ±∞ would poison the history for good
        }

        _rows++;
        var p = _history.PValue(x, _side);
        var alert = _rows >= _history.Capacity && p <= _alpha;
        _history.Add(x);
        return new TimeSeriesOutput(alert, x, p, double.NaN);
    }

    /// <summary>Writes the detector's state.</summary>
    public void Write(BinaryWriter writer)
    {
        writer.Write(StateVersion);
        writer.Write(_rows);
        _history.Write(writer);
    }

    /// <summary>Restores what <see cref="Write"/> wrote.</summary>
    public void Read(BinaryReader reader)
    {
        StateVersions.Check(reader.ReadByte(), StateVersion, "iid-spike");
        _rows = reader.ReadInt64();
        _history.Read(reader);
    }
}

/// <summary>IID change-point detector (detectors-spec §2; ML.NET <c>DetectIidChangePoint</c>): two-sided p-values of x
/// feed a power or mixture martingale; alert when the history is full and M ≥ τ, at most once per W rows.
/// Defaults: confidence 95, history 20, Power, ε = 0.1.</summary>
public sealed class IidChangePointDetector : IStreamingDetector
{
    /// <summary>Default confidence, percent.</summary>
    public const double DefaultConfidence = 95;

    /// <summary>Default change history length.</summary>
    public const int DefaultHistory = 20;

    /// <summary>Default ε of the betting function.</summary>
    public const double DefaultEpsilon = 0.1;

    private const byte StateVersion = 1;
    private readonly PValueHistory _history;
    private readonly Martingale _martingale;
    private long _rows;

    /// <summary>Creates a detector.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Confidence outside (0, 100), ε outside (0, 1) or history &lt; 1.</exception>
    public IidChangePointDetector(
        double confidence = DefaultConfidence, int changeHistoryLength = DefaultHistory, MartingaleType martingale = MartingaleType.Power, double eps = DefaultEpsilon)
    {
        _history = new PValueHistory(changeHistoryLength);
        _martingale = new Martingale(martingale, eps, confidence, changeHistoryLength);
    }

    /// <summary>τ: the martingale value that signals a change.</summary>
    public double Threshold => _martingale.Threshold;

    /// <summary>Scores one value, then learns it.</summary>
    public TimeSeriesOutput Update(double x)
    {
        if (!double.IsFinite(x))
        {
            return TimeSeriesOutput.Missing; // NaN is missing; ±∞ would poison the history for good
        }

        _rows++;
        var p = _history.PValue(x, AnomalySide.TwoSided);
        var (m, alert) = _martingale.Update(p, _rows >= _history.Capacity);
        _history.Add(x);
        return new TimeSeriesOutput(alert, x, p, m);
    }

    /// <summary>Writes the detector's state.</summary>
    public void Write(BinaryWriter writer)
    {
        writer.Write(StateVersion);
        writer.Write(_rows);
        _history.Write(writer);
        _martingale.Write(writer);
    }

    /// <summary>Restores what <see cref="Write"/> wrote.</summary>
    public void Read(BinaryReader reader)
    {
        StateVersions.Check(reader.ReadByte(), StateVersion, "iid-changepoint");
        _rows = reader.ReadInt64();
        _history.Read(reader);
        _martingale.Read(reader);
    }
}

/// <summary>State version checks with one message.</summary>
public static class StateVersions
{
    /// <summary>Throws <see cref="InvalidDataException"/> unless <paramref name="found"/> is <paramref name="expected"/>.</summary>
    public static void Check(byte found, byte expected, string detector)
    {
        if (found != expected)
        {
            throw new InvalidDataException($"{detector} state version {found} is not supported (expected {expected})");
        }
    }
}
