using AnomalyZT.Grains.Config;

namespace AnomalyZT.Grains.Detectors;

/// <summary>Robust level baseline: median and MAD of the last <c>window</c> closed buckets.</summary>
/// <remarks>
/// score = (x − median) / max(1.4826·MAD, relativeFloor·|median|, absoluteFloor). The floors stop a flat
/// baseline (MAD = 0, typical of quiet service accounts) from turning every wobble into an alert. The median
/// and MAD resist the anomalies they are meant to find, so anomalous buckets are learned like any other.
/// Cost per update: O(W) on average (two quickselects on a per-thread scratch array), no allocation.
/// </remarks>
public sealed class RobustLevelDetector : ISeriesDetector
{
    /// <summary>Name on findings.</summary>
    public const string DetectorName = "robust-level";
    private const byte StateVersion = 1;
    private const double MadToSigma = 1.4826;

    [ThreadStatic]
    private static double[]? t_scratch;

    private readonly RobustLevelSettings _settings;
    private readonly bool _twoSided;
    private readonly double[] _ring;
    private int _head;
    private int _count;

    /// <summary>Creates a detector with empty baseline.</summary>
    public RobustLevelDetector(RobustLevelSettings settings)
    {
        _settings = settings;
        _twoSided = settings.Direction == "both";
        _ring = new double[settings.Window];
    }

    /// <inheritdoc />
    public string Name => DetectorName;

    /// <inheritdoc />
    public int Seen => _count;

    /// <inheritdoc />
    public int WarmupNeeded => _settings.Warmup;

    /// <inheritdoc />
    public DetectorVerdict Update(double value, long bucketStartMs)
    {
        if (double.IsNaN(value) || double.IsInfinity(value))
        {
            return new DetectorVerdict(false, double.NaN, double.NaN, double.NaN, 0, double.NaN, _count);
        }

        var verdict = Judge(value);
        _ring[_head] = value;
        _head = (_head + 1) % _ring.Length;
        if (_count < _ring.Length)
        {
            _count++;
        }

        return verdict;
    }

    /// <inheritdoc />
    public DetectorVerdict Peek(long bucketStartMs) => Judge(double.NaN);

    private DetectorVerdict Judge(double value)
    {
        if (_count == 0)
        {
            return new DetectorVerdict(false, double.NaN, double.NaN, double.NaN, 0, double.NaN, 0);
        }

        var scratch = t_scratch is { } s && s.Length >= _ring.Length ? s : t_scratch = new double[Math.Max(_ring.Length, 256)];
        var window = scratch.AsSpan(0, _count);
        _ring.AsSpan(0, _count).CopyTo(window);
        var median = Median(window);
        for (var i = 0; i < window.Length; i++)
        {
            window[i] = Math.Abs(window[i] - median);
        }

        var mad = Median(window);
        var scale = BaselineMath.Scale(MadToSigma * mad, median, _settings.RelativeFloor, _settings.AbsoluteFloor);
        var k = _settings.Threshold;
        var lower = median - k * scale;
        var upper = median + k * scale;
        if (double.IsNaN(value))
        {
            return new DetectorVerdict(false, median, lower, upper, 0, double.NaN, _count);
        }

        var z = (value - median) / scale;
        var score = _twoSided ? Math.Abs(z) : z;
        var p = _twoSided ? 2 * Normal.UpperTail(Math.Abs(z)) : Normal.UpperTail(z);
        var anomaly = _count >= _settings.Warmup && score >= k;
        return new DetectorVerdict(anomaly, median, lower, upper, score, Math.Min(1, p), _count);
    }

    /// <summary>Median by quickselect: O(n) on average, reordering <paramref name="values"/> in place.</summary>
    internal static double Median(Span<double> values)
    {
        var mid = values.Length / 2;
        var upper = Select(values, mid);
        if (values.Length % 2 == 1)
        {
            return upper;
        }

        // After selecting index mid, everything left of it is ≤ it: the lower middle is their maximum.
        var lower = values[0];
        for (var i = 1; i < mid; i++)
        {
            lower = Math.Max(lower, values[i]);
        }

        return 0.5 * (lower + upper);
    }

    private static double Select(Span<double> a, int k)
    {
        int lo = 0, hi = a.Length - 1;
        while (hi > lo)
        {
            // Median-of-three pivot keeps sorted and reversed windows (common for counters) linear.
            var m = lo + ((hi - lo) / 2);
            if (a[m] < a[lo])
            {
                (a[m], a[lo]) = (a[lo], a[m]);
            }

            if (a[hi] < a[lo])
            {
                (a[hi], a[lo]) = (a[lo], a[hi]);
            }

            if (a[hi] < a[m])
            {
                (a[hi], a[m]) = (a[m], a[hi]);
            }

            var pivot = a[m];
            int i = lo, j = hi;
            while (i <= j)
            {
                while (a[i] < pivot)
                {
                    i++;
                }

                while (a[j] > pivot)
                {
                    j--;
                }

                if (i <= j)
                {
                    (a[i], a[j]) = (a[j], a[i]);
                    i++;
                    j--;
                }
            }

            if (k <= j)
            {
                hi = j;
            }
            else if (k >= i)
            {
                lo = i;
            }
            else
            {
                return a[k];
            }
        }

        return a[k];
    }

    /// <inheritdoc />
    public void Write(BinaryWriter writer)
    {
        writer.Write(StateVersion);
        writer.Write(_ring.Length);
        writer.Write(_count);
        // Oldest first, so a restored detector with a different window keeps the newest values.
        for (var i = 0; i < _count; i++)
        {
            writer.Write(_ring[(_head - _count + i + _ring.Length) % _ring.Length]);
        }
    }

    /// <inheritdoc />
    public void Read(BinaryReader reader)
    {
        var version = reader.ReadByte();
        if (version != StateVersion)
        {
            throw new InvalidDataException($"robust-level state version {version} is not supported (expected {StateVersion})");
        }

        _ = reader.ReadInt32();
        var count = reader.ReadInt32();
        if (count < 0 || count > 1_000_000)
        {
            throw new InvalidDataException($"robust-level state holds {count} values; the state is corrupt");
        }

        _head = 0;
        _count = 0;
        for (var i = 0; i < count; i++)
        {
            var v = reader.ReadDouble();
            _ring[_head] = v;
            _head = (_head + 1) % _ring.Length;
            _count = Math.Min(_count + 1, _ring.Length);
        }
    }
}
