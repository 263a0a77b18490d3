namespace AnomalyZT.Grains.Detectors.TimeSeries;

/// <summary>The shared streaming core of the IID and SSA detectors (detectors-spec §0): a FIFO of the last W raw
/// scores and the kernel-density p-value of a new score against it.</summary>
/// <remarks>
/// p is computed before the score is appended. With n = |B|: p = 0.5 when n = 0; σ = 1 when n = 1, otherwise the
/// population standard deviation of B, kept as a running pairwise sum Σ_{i&lt;j}(b_i − b_j)² so an update costs O(W);
/// h = max(√2σ, 1e-6); p = 0.5 − (1/2n)·Σ erf((s − b_i)/h), the upper-tail probability. The side maps p, which is
/// then clamped to [1e-8, 1 − 1e-8].
/// </remarks>
public sealed class PValueHistory
{
    private const double MinP = 1e-8;
    private readonly double[] _ring;
    private int _head;
    private int _count;
    private double _pairSum;
    private int _addsSinceExact;

    /// <summary>Creates an empty history of <paramref name="capacity"/> scores.</summary>
    public PValueHistory(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _ring = new double[capacity];
    }

    /// <summary>W, the scores kept.</summary>
    public int Capacity => _ring.Length;

    /// <summary>Scores held now.</summary>
    public int Count => _count;

    /// <summary>True once W scores are held.</summary>
    public bool IsFull => _count == _ring.Length;

    /// <summary>The side-adjusted, clamped p-value of <paramref name="score"/> against the history (not appended).</summary>
    public double PValue(double score, AnomalySide side)
    {
        double upper;
        if (_count == 0)
        {
            upper = 0.5;
        }
        else
        {
            var sigma = _count == 1 ? 1.0 : Math.Sqrt(Math.Max(_pairSum, 0)) / _count;
            var h = Math.Max(Math.Sqrt(2) * sigma, 1e-6);
            // Logical (oldest-first) order, so a restored history sums in the same order and matches bit for bit.
            var sum = 0.0;
            for (var i = 0; i < _count; i++)
            {
                sum += Erf((score - _ring[(_head + i) % _ring.Length]) / h);
            }

            upper = 0.5 - (sum / (2.0 * _count));
        }

        var p = side switch
        {
            AnomalySide.Positive => upper,
            AnomalySide.Negative => 1 - upper,
            _ => Math.Min(upper, 1 - upper),
        };
        return Math.Clamp(p, MinP, 1 - MinP);
    }

    /// <summary>Appends <paramref name="score"/>, dropping the oldest when full. O(W).</summary>
    public void Add(double score)
    {
        var cap = _ring.Length;
        if (_count == cap)
        {
            var old = _ring[_head];
            for (var k = 1; k < _count; k++)
            {
                var d = old - _ring[(_head + k) % cap];
                _pairSum -= d * d;
            }

            _head = (_head + 1) % cap;
            _count--;
        }

        for (var k = 0; k < _count; k++)
        {
            var d = score - _ring[(_head + k) % cap];
            _pairSum += d * d;
        }

        _ring[(_head + _count) % cap] = score;
        _count++;

        // Adding and subtracting squares drifts; an exact recomputation every W adds keeps the error bounded at
        // O(W) amortised cost. Its schedule is part of the state, so a restored history rounds the same way.
        if (++_addsSinceExact >= cap)
        {
            _addsSinceExact = 0;
            _pairSum = ExactPairSum();
        }
    }

    private double ExactPairSum()
    {
        var cap = _ring.Length;
        var sum = 0.0;
        for (var i = 0; i < _count; i++)
        {
            var bi = _ring[(_head + i) % cap];
            for (var j = i + 1; j < _count; j++)
            {
                var d = bi - _ring[(_head + j) % cap];
                sum += d * d;
            }
        }

        return sum;
    }

    /// <summary>Writes the history, oldest first, with its running sums so a restored history continues bit for bit.</summary>
    public void Write(BinaryWriter writer)
    {
        writer.Write(_count);
        writer.Write(_pairSum);
        writer.Write(_addsSinceExact);
        for (var i = 0; i < _count; i++)
        {
            writer.Write(_ring[(_head + i) % _ring.Length]);
        }
    }

    /// <summary>Restores what <see cref="Write"/> wrote.</summary>
    public void Read(BinaryReader reader)
    {
        var count = reader.ReadInt32();
        if (count < 0 || count > _ring.Length)
        {
            throw new InvalidDataException($"p-value history holds {count} scores; capacity is {_ring.Length}");
        }

        _pairSum = reader.ReadDouble();
        _addsSinceExact = reader.ReadInt32();
        _head = 0;
        _count = count;
        Array.Clear(_ring);
        for (var i = 0; i < count; i++)
        {
            _ring[i] = reader.ReadDouble();
        }
    }

    /// <summary>erf(x) from the accurate complementary function.</summary>
    internal static double Erf(double x) => x >= 0 ? 1 - Normal.Erfc(x) : Normal.Erfc(-x) - 1;
}
