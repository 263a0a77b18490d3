using AnomalyZT.Silo.Nab;

namespace AnomalyZT.Tests.Nab;

/// <summary>
/// Harness smoke detector, not a real one: z-score of each value against the running mean and standard
/// deviation of all earlier values (Welford), score = clamp(|z|/6, 0, 1); 0 until two values are seen.
/// </summary>
internal sealed class ZScoreNabDetector : INabDetector
{
    private long _count;
    private double _mean;
    private double _m2;

    public double Score(DateTime timestamp, double value)
    {
        var score = 0.0;
        if (_count >= 2)
        {
            var std = Math.Sqrt(_m2 / (_count - 1));
            if (std > 0)
            {
                score = Math.Clamp(Math.Abs(value - _mean) / std / 6.0, 0.0, 1.0);
            }
        }

        _count++;
        var delta = value - _mean;
        _mean += delta / _count;
        _m2 += delta * (value - _mean);
        return score;
    }
}
