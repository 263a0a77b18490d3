using AnomalyZT.Grains.Config;

namespace AnomalyZT.Grains.Detectors;

/// <summary>Exponentially weighted mean and variance of closed buckets: a baseline that follows slow drift.</summary>
/// <remarks>α = 2/(span+1); z = (x − mean)/max(σ, relativeFloor·|mean|, absoluteFloor). The variance update is
/// West's incremental form for exponential weights, stable for long runs.</remarks>
public sealed class EwmaDetector : ISeriesDetector
{
    /// <summary>Name on findings.</summary>
    public const string DetectorName = "ewma";
    private const byte StateVersion = 1;
    private readonly EwmaSettings _settings;
    private readonly double _alpha;
    private double _mean;
    private double _variance;
    private int _seen;

    /// <summary>Creates a detector with an empty baseline.</summary>
    public EwmaDetector(EwmaSettings settings)
    {
        _settings = settings;
        _alpha = 2.0 / (settings.Span + 1);
    }

    /// <inheritdoc />
    public string Name => DetectorName;

    /// <inheritdoc />
    public int Seen => _seen;

    /// <inheritdoc />
    public int WarmupNeeded => _settings.Warmup;

    /// <inheritdoc />
    public DetectorVerdict Update(double value, long bucketStartMs)
    {
        if (!double.IsFinite(value))
        {
            return new DetectorVerdict(false, double.NaN, double.NaN, double.NaN, 0, double.NaN, _seen);
        }

        var verdict = Judge(value);
        BaselineMath.Learn(ref _mean, ref _variance, _seen == 0, value, _alpha);

        _seen = Math.Min(_seen + 1, int.MaxValue - 1);
        return verdict;
    }

    /// <inheritdoc />
    public DetectorVerdict Peek(long bucketStartMs) => Judge(double.NaN);

    private DetectorVerdict Judge(double value)
    {
        if (_seen == 0)
        {
            return new DetectorVerdict(false, double.NaN, double.NaN, double.NaN, 0, double.NaN, 0);
        }

        var scale = BaselineMath.Scale(Math.Sqrt(_variance), _mean, _settings.RelativeFloor, _settings.AbsoluteFloor);
        var k = _settings.Threshold;
        if (double.IsNaN(value))
        {
            return new DetectorVerdict(false, _mean, _mean - (k * scale), _mean + (k * scale), 0, double.NaN, _seen);
        }

        var z = (value - _mean) / scale;
        var score = _settings.Direction == "both" ? Math.Abs(z) : z;
        var p = _settings.Direction == "both" ? 2 * Normal.UpperTail(Math.Abs(z)) : Normal.UpperTail(z);
        return new DetectorVerdict(_seen >= _settings.Warmup && score >= k, _mean, _mean - (k * scale), _mean + (k * scale), score, Math.Min(1, p), _seen);
    }

    /// <inheritdoc />
    public void Write(BinaryWriter writer)
    {
        writer.Write(StateVersion);
        writer.Write(_seen);
        writer.Write(_mean);
        writer.Write(_variance);
    }

    /// <inheritdoc />
    public void Read(BinaryReader reader)
    {
        TimeSeries.StateVersions.Check(reader.ReadByte(), StateVersion, DetectorName);
        _seen = reader.ReadInt32();
        _mean = reader.ReadDouble();
        _variance = reader.ReadDouble();
    }
}

/// <summary>Hour-of-week (or hour-of-day) activity profile: one exponentially weighted mean and variance per hour slot,
/// so a nightly batch job is judged against other nights, not against the afternoon.</summary>
/// <remarks>A slot alerts only after it has seen <c>warmup</c> buckets; until then its verdict is "warming up". The
/// scale is floored like the other baselines so a slot that was always idle does not flag every small value.</remarks>
public sealed class HourOfWeekDetector : ISeriesDetector
{
    /// <summary>Name on findings.</summary>
    public const string DetectorName = "hour-of-week";
    private const byte StateVersion = 1;
    private const long HourMs = 3_600_000;

    // 1970-01-01 was a Thursday; shifting by three days makes slot 0 Monday 00:00 UTC.
    private const long MondayOffsetMs = 3 * 24 * HourMs;
    private readonly HourOfWeekSettings _settings;
    private readonly double _alpha;
    private readonly double[] _mean;
    private readonly double[] _variance;
    private readonly int[] _count;
    private int _seen;

    /// <summary>Creates an empty profile of 168 (week) or 24 (day) slots.</summary>
    public HourOfWeekDetector(HourOfWeekSettings settings)
    {
        _settings = settings;
        _alpha = 2.0 / (settings.Span + 1);
        _mean = new double[settings.Slots];
        _variance = new double[settings.Slots];
        _count = new int[settings.Slots];
    }

    /// <inheritdoc />
    public string Name => DetectorName;

    /// <inheritdoc />
    public int Seen => _seen;

    /// <inheritdoc />
    public int WarmupNeeded => _settings.Warmup;

    /// <summary>Slot of a time: hours since Monday 00:00 UTC, modulo the slot count.</summary>
    public int SlotOf(long timestampMs)
    {
        var hours = Math.Floor((timestampMs + MondayOffsetMs) / (double)HourMs);
        var slot = (long)hours % _mean.Length;
        return (int)(slot < 0 ? slot + _mean.Length : slot);
    }

    /// <inheritdoc />
    public DetectorVerdict Update(double value, long bucketStartMs)
    {
        var slot = SlotOf(bucketStartMs);
        if (!double.IsFinite(value))
        {
            return new DetectorVerdict(false, double.NaN, double.NaN, double.NaN, 0, double.NaN, _count[slot]);
        }

        var verdict = Judge(slot, value);
        BaselineMath.Learn(ref _mean[slot], ref _variance[slot], _count[slot] == 0, value, _alpha);

        _count[slot] = Math.Min(_count[slot] + 1, int.MaxValue - 1);
        _seen = Math.Min(_seen + 1, int.MaxValue - 1);
        return verdict;
    }

    /// <inheritdoc />
    public DetectorVerdict Peek(long bucketStartMs) => Judge(SlotOf(bucketStartMs), double.NaN);

    private DetectorVerdict Judge(int slot, double value)
    {
        var n = _count[slot];
        if (n == 0)
        {
            return new DetectorVerdict(false, double.NaN, double.NaN, double.NaN, 0, double.NaN, 0);
        }

        var mean = _mean[slot];
        var scale = BaselineMath.Scale(Math.Sqrt(_variance[slot]), mean, _settings.RelativeFloor, _settings.AbsoluteFloor);
        var k = _settings.Threshold;
        if (double.IsNaN(value))
        {
            return new DetectorVerdict(false, mean, mean - (k * scale), mean + (k * scale), 0, double.NaN, n);
        }

        var z = (value - mean) / scale;
        return new DetectorVerdict(n >= _settings.Warmup && z >= k, mean, mean - (k * scale), mean + (k * scale), z, Normal.UpperTail(z), n);
    }

    /// <inheritdoc />
    public void Write(BinaryWriter writer)
    {
        writer.Write(StateVersion);
        writer.Write(_mean.Length);
        writer.Write(_seen);
        for (var i = 0; i < _mean.Length; i++)
        {
            writer.Write(_count[i]);
            writer.Write(_mean[i]);
            writer.Write(_variance[i]);
        }
    }

    /// <inheritdoc />
    public void Read(BinaryReader reader)
    {
        TimeSeries.StateVersions.Check(reader.ReadByte(), StateVersion, DetectorName);
        var slots = reader.ReadInt32();
        if (slots != _mean.Length)
        {
            throw new InvalidDataException($"hour-of-week state has {slots} slots; the configuration has {_mean.Length}");
        }

        _seen = reader.ReadInt32();
        for (var i = 0; i < slots; i++)
        {
            _count[i] = reader.ReadInt32();
            _mean[i] = reader.ReadDouble();
            _variance[i] = reader.ReadDouble();
        }
    }
}

/// <summary>What the baselines share: the floored scale and the exponentially weighted moments.</summary>
internal static class BaselineMath
{
    /// <summary>max(spread, relativeFloor·|center|, absoluteFloor): a flat baseline must not turn every wobble into an alert.</summary>
    public static double Scale(double spread, double center, double relativeFloor, double absoluteFloor) =>
        Math.Max(spread, Math.Max(relativeFloor * Math.Abs(center), absoluteFloor));

    /// <summary>West's incremental exponentially weighted mean and variance; the first value sets the mean.</summary>
    public static void Learn(ref double mean, ref double variance, bool first, double value, double alpha)
    {
        if (first)
        {
            mean = value;
            return;
        }

        var diff = value - mean;
        var increment = alpha * diff;
        mean += increment;
        variance = (1 - alpha) * (variance + (diff * increment));
    }
}
