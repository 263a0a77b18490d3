namespace AnomalyZT.Silo.Receivers;

/// <summary>Lets one warning through per interval and counts the ones held back, so a sender that can trigger a warning
/// at will (unknown sources, malformed input, limits) cannot flood the log. Safe to enter from several threads.</summary>
public sealed class WarningGate(TimeProvider time, TimeSpan interval)
{
    private long _next;
    private long _suppressed;

    /// <summary>True when this warning may be logged; <paramref name="suppressed"/> is then how many were held back since
    /// the last one.</summary>
    public bool TryEnter(out long suppressed)
    {
        var now = time.GetTimestamp();
        var next = Interlocked.Read(ref _next);
        if (now < next || Interlocked.CompareExchange(ref _next, now + (long)(interval.TotalSeconds * time.TimestampFrequency), next) != next)
        {
            Interlocked.Increment(ref _suppressed);
            suppressed = 0;
            return false;
        }

        suppressed = Interlocked.Exchange(ref _suppressed, 0);
        return true;
    }
}
