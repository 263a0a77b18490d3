namespace AnomalyZT.Grains.Detectors.TimeSeries;

/// <summary>The change-point martingale of detectors-spec §2: M_t = exp(Σ of the last W log-bets u(p)), kept as a
/// sliding log-sum, with the alert threshold τ = exp(W·u(1 − c/100)) and a refractory period of W − 1 rows.</summary>
public sealed class Martingale
{
    private readonly MartingaleType _type;
    private readonly double _epsilon;
    private readonly double[] _bets;
    private int _head;
    private bool _started;
    private double _logSum;
    private int _refractory;

    /// <summary>Creates a martingale over <paramref name="window"/> bets.</summary>
    /// <exception cref="ArgumentOutOfRangeException">ε outside (0, 1), confidence outside (0, 100) or window &lt; 1.</exception>
    public Martingale(MartingaleType type, double epsilon, double confidence, int window)
    {
        if (!(epsilon > 0 && epsilon < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, $"eps is {epsilon}; it must lie in (0, 1)");
        }

        if (!(confidence > 0 && confidence < 100))
        {
            throw new ArgumentOutOfRangeException(nameof(confidence), confidence, $"confidence is {confidence}; it must lie in (0, 100)");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        _type = type;
        _epsilon = epsilon;
        _bets = new double[window];
        LogThreshold = type == MartingaleType.None ? double.PositiveInfinity : window * LogBet(1 - (confidence / 100));
    }

    /// <summary>ln τ.</summary>
    public double LogThreshold { get; }

    /// <summary>τ, the martingale value at or above which a change is declared.</summary>
    public double Threshold => Math.Exp(LogThreshold);

    /// <summary>The log-bet u(p) of the configured betting function.</summary>
    public double LogBet(double p) => _type switch
    {
        MartingaleType.Power => Math.Log(_epsilon) + ((_epsilon - 1) * Math.Log(p)),
        MartingaleType.Mixture => MixtureLogBet(p),
        _ => 0,
    };

    /// <summary>ln ∫₀¹ ε p^(ε−1) dε = ln(p·ln p + 1 − p) − 2·ln(−ln p) − ln p.</summary>
    public static double MixtureLogBet(double p)
    {
        var lnP = Math.Log(p);
        return Math.Log((p * lnP) + 1 - p) - (2 * Math.Log(-lnP)) - lnP;
    }

    /// <summary>Bets on <paramref name="p"/>; returns the martingale value M_t and whether it signals a change
    /// (<paramref name="armed"/>: the p-value history is full).</summary>
    public (double Value, bool Alert) Update(double p, bool armed)
    {
        var u = LogBet(p);
        if (!_started)
        {
            // The first scored row fills the whole window with its own bet: log M = W·u₁.
            Array.Fill(_bets, u);
            _logSum = _bets.Length * u;
            _started = true;
        }
        else
        {
            _logSum += u - _bets[_head];
            _bets[_head] = u;
            _head = (_head + 1) % _bets.Length;
        }

        var alert = false;
        if (_refractory > 0)
        {
            _refractory--;
        }
        else if (armed && _logSum >= LogThreshold)
        {
            alert = true;
            _refractory = _bets.Length - 1;
        }

        // M itself is only reported: exp overflows past ln M ≈ 709, so it is capped there (decisions use the log).
        return (Math.Exp(Math.Min(_logSum, 709)), alert);
    }

    /// <summary>Writes the bets, the log-sum and the refractory counter.</summary>
    public void Write(BinaryWriter writer)
    {
        writer.Write(_started);
        writer.Write(_head);
        writer.Write(_logSum);
        writer.Write(_refractory);
        foreach (var b in _bets)
        {
            writer.Write(b);
        }
    }

    /// <summary>Restores what <see cref="Write"/> wrote.</summary>
    public void Read(BinaryReader reader)
    {
        _started = reader.ReadBoolean();
        _head = reader.ReadInt32();
        if (_head < 0 || _head >= _bets.Length)
        {
            throw new InvalidDataException($"martingale head {_head} is outside its window of {_bets.Length}");
        }

        _logSum = reader.ReadDouble();
        _refractory = reader.ReadInt32();
        for (var i = 0; i < _bets.Length; i++)
        {
            _bets[i] = reader.ReadDouble();
        }
    }
}
