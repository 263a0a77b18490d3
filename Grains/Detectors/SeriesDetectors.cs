using AnomalyZT.Grains.Config;
using AnomalyZT.Grains.Detectors.SpectralResidual;
using AnomalyZT.Grains.Detectors.TimeSeries;

namespace AnomalyZT.Grains.Detectors;

/// <summary>Builds the detectors a feature's settings name, in order.</summary>
public static class SeriesDetectors
{
    /// <summary>Detector names accepted in <c>detectors.yaml</c>.</summary>
    public static readonly string[] Names =
        ["robust_level", "ewma", "hour_of_week", "iid_spike", "iid_changepoint", "ssa_spike", "ssa_changepoint", "sr"];

    /// <summary>Creates the detectors of <paramref name="settings"/>.</summary>
    public static ISeriesDetector[] Create(FeatureSettings settings)
    {
        var result = new ISeriesDetector[settings.Detectors.Count];
        var iid = settings.Iid;
        var ssa = settings.Ssa;
        var martingale = iid.Martingale == "mixture" ? MartingaleType.Mixture : MartingaleType.Power;
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = settings.Detectors[i] switch
            {
                "robust_level" => new RobustLevelDetector(settings.RobustLevel),
                "ewma" => new EwmaDetector(settings.Ewma),
                "hour_of_week" => new HourOfWeekDetector(settings.HourOfWeek),
                "iid_spike" => new StreamingSeriesDetector("iid-spike", new IidSpikeDetector(iid.SpikeConfidence, iid.SpikeHistory, AnomalySide.Positive), iid.SpikeHistory),
                "iid_changepoint" => new StreamingSeriesDetector("iid-changepoint",
                    new IidChangePointDetector(iid.ChangeConfidence, iid.ChangeHistory, martingale, iid.Epsilon), iid.ChangeHistory),
                "ssa_spike" => new StreamingSeriesDetector("ssa-spike",
                    new SsaSpikeDetector(ssa.SpikeConfidence, ssa.SpikeHistory, ssa.TrainingWindow, ssa.SeasonalityWindow, AnomalySide.Positive), ssa.TrainingWindow),
                "ssa_changepoint" => new StreamingSeriesDetector("ssa-changepoint",
                    new SsaChangePointDetector(ssa.ChangeConfidence, ssa.ChangeHistory, ssa.TrainingWindow, ssa.SeasonalityWindow, ErrorFunction.SignedDifference, martingale, iid.Epsilon),
                    ssa.TrainingWindow),
                "sr" => new StreamingSeriesDetector("sr", new SpectralResidualStream(settings.Sr.Window, settings.Sr.Threshold), settings.Sr.Window),
                var other => throw new ArgumentException($"detector '{other}' is unknown; allowed: {string.Join(", ", Names)}"),
            };
        }

        return result;
    }
}

/// <summary>Any streaming time-series detector (IID, SSA, spectral residual) judging closed buckets. Its score is
/// log10 of the martingale for change points, −log10 p for spikes, the raw score otherwise.</summary>
public sealed class StreamingSeriesDetector(string name, IStreamingDetector inner, int warmup) : ISeriesDetector
{
    private int _seen;

    /// <inheritdoc />
    public string Name => name;

    /// <inheritdoc />
    public int Seen => _seen;

    /// <inheritdoc />
    public int WarmupNeeded => warmup;

    /// <inheritdoc />
    public DetectorVerdict Update(double value, long bucketStartMs)
    {
        var o = inner.Update(value);
        if (double.IsFinite(value))
        {
            _seen = Math.Min(_seen + 1, warmup);
        }

        var score = double.IsFinite(o.MartingaleValue) ? Math.Log10(Math.Max(o.MartingaleValue, 1e-300))
            : double.IsFinite(o.PValue) ? -Math.Log10(o.PValue)
            : double.IsFinite(o.RawScore) ? o.RawScore : 0;
        return new DetectorVerdict(o.Alert, double.NaN, double.NaN, double.NaN, score, o.PValue, _seen);
    }

    /// <inheritdoc />
    public DetectorVerdict Peek(long bucketStartMs) => new(false, double.NaN, double.NaN, double.NaN, 0, double.NaN, _seen);

    /// <inheritdoc />
    public void Write(BinaryWriter writer)
    {
        writer.Write(_seen);
        inner.Write(writer);
    }

    /// <inheritdoc />
    public void Read(BinaryReader reader)
    {
        _seen = reader.ReadInt32();
        inner.Read(reader);
    }
}

/// <summary>The streaming spectral residual in the common output shape (no p-value; raw saliency score).</summary>
public sealed class SpectralResidualStream(int window, double threshold) : IStreamingDetector
{
    // The judgement window may not exceed the window; ML.NET's 21 applies when the window allows it.
    private readonly SrStreamingDetector _detector = new(window, judgementWindowSize: Math.Min(SrStreamingDetector.DefaultJudgementWindowSize, window), threshold: threshold);

    /// <inheritdoc />
    public TimeSeriesOutput Update(double x)
    {
        var (alert, raw, _) = _detector.Update(x);
        return new TimeSeriesOutput(alert, raw, double.NaN, double.NaN);
    }

    /// <inheritdoc />
    public void Write(BinaryWriter writer) => _detector.Write(writer);

    /// <inheritdoc />
    public void Read(BinaryReader reader) => _detector.Read(reader);
}
