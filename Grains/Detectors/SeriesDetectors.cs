using AnomalyZT.Grains.Config;
using AnomalyZT.Grains.Detectors.TimeSeries;

namespace AnomalyZT.Grains.Detectors;

/// <summary>Builds the detectors a feature's settings name, in order.</summary>
public static class SeriesDetectors
{
    /// <summary>Detector names accepted in <c>detectors.yaml</c>.</summary>
    public static readonly string[] Names = ["robust_level", "ewma", "hour_of_week", "iid_spike", "iid_changepoint"];

    /// <summary>Creates the detectors of <paramref name="settings"/>.</summary>
    public static ISeriesDetector[] Create(FeatureSettings settings)
    {
        var result = new ISeriesDetector[settings.Detectors.Count];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = settings.Detectors[i] switch
            {
                "robust_level" => new RobustLevelDetector(settings.RobustLevel),
                "ewma" => new EwmaDetector(settings.Ewma),
                "hour_of_week" => new HourOfWeekDetector(settings.HourOfWeek),
                "iid_spike" => new IidSpikeSeriesDetector(settings.Iid),
                "iid_changepoint" => new IidChangePointSeriesDetector(settings.Iid),
                var other => throw new ArgumentException($"detector '{other}' is unknown; allowed: {string.Join(", ", Names)}"),
            };
        }

        return result;
    }
}

/// <summary>The IID spike detector on closed buckets (upper side: more than usual is the concern).</summary>
public sealed class IidSpikeSeriesDetector(IidSettings settings) : ISeriesDetector
{
    private readonly IidSpikeDetector _detector = new(settings.SpikeConfidence, settings.SpikeHistory, AnomalySide.Positive);
    private int _seen;

    /// <inheritdoc />
    public string Name => "iid-spike";

    /// <inheritdoc />
    public int Seen => _seen;

    /// <inheritdoc />
    public int WarmupNeeded => settings.SpikeHistory;

    /// <inheritdoc />
    public DetectorVerdict Update(double value, long bucketStartMs)
    {
        var o = _detector.Update(value);
        if (!double.IsNaN(value))
        {
            _seen = Math.Min(_seen + 1, settings.SpikeHistory);
        }

        return new DetectorVerdict(o.Alert, double.NaN, double.NaN, double.NaN, double.IsNaN(o.PValue) ? 0 : -Math.Log10(o.PValue), o.PValue, _seen);
    }

    /// <inheritdoc />
    public DetectorVerdict Peek(long bucketStartMs) => new(false, double.NaN, double.NaN, double.NaN, 0, double.NaN, _seen);

    /// <inheritdoc />
    public void Write(BinaryWriter writer)
    {
        writer.Write(_seen);
        _detector.Write(writer);
    }

    /// <inheritdoc />
    public void Read(BinaryReader reader)
    {
        _seen = reader.ReadInt32();
        _detector.Read(reader);
    }
}

/// <summary>The IID change-point detector on closed buckets: a lasting change of level, not a single spike.</summary>
public sealed class IidChangePointSeriesDetector(IidSettings settings) : ISeriesDetector
{
    private readonly IidChangePointDetector _detector = new(
        settings.ChangeConfidence, settings.ChangeHistory, settings.Martingale == "mixture" ? MartingaleType.Mixture : MartingaleType.Power, settings.Epsilon);

    private int _seen;

    /// <inheritdoc />
    public string Name => "iid-changepoint";

    /// <inheritdoc />
    public int Seen => _seen;

    /// <inheritdoc />
    public int WarmupNeeded => settings.ChangeHistory;

    /// <inheritdoc />
    public DetectorVerdict Update(double value, long bucketStartMs)
    {
        var o = _detector.Update(value);
        if (!double.IsNaN(value))
        {
            _seen = Math.Min(_seen + 1, settings.ChangeHistory);
        }

        var score = double.IsNaN(o.MartingaleValue) ? 0 : Math.Log10(Math.Max(o.MartingaleValue, 1e-300));
        return new DetectorVerdict(o.Alert, double.NaN, double.NaN, double.NaN, score, o.PValue, _seen);
    }

    /// <inheritdoc />
    public DetectorVerdict Peek(long bucketStartMs) => new(false, double.NaN, double.NaN, double.NaN, 0, double.NaN, _seen);

    /// <inheritdoc />
    public void Write(BinaryWriter writer)
    {
        writer.Write(_seen);
        _detector.Write(writer);
    }

    /// <inheritdoc />
    public void Read(BinaryReader reader)
    {
        _seen = reader.ReadInt32();
        _detector.Read(reader);
    }
}
