using AnomalyZT.Grains.Policy;

namespace AnomalyZT.Silo.Response;

/// <summary>Rate limit and circuit breaker of one connector: more than <see cref="BreakerSettings.MaxActions"/> actions
/// within <see cref="BreakerSettings.WindowMinutes"/> opens it, and it stays open for
/// <see cref="BreakerSettings.OpenMinutes"/>; while open, no action is admitted. Wall-clock time. Not thread-safe.</summary>
internal sealed class ConnectorBreaker
{
    private readonly Queue<long> _admitted = new();

    /// <summary>Until when the breaker is open, Unix ms (0: closed).</summary>
    public long OpenUntilMs { get; private set; }

    /// <summary>Whether the breaker is open at <paramref name="nowMs"/>.</summary>
    public bool IsOpen(long nowMs) => nowMs < OpenUntilMs;

    /// <summary>Admits one action at <paramref name="nowMs"/>, or refuses it; <paramref name="tripped"/> is true when this
    /// call opened the breaker.</summary>
    public bool TryAdmit(long nowMs, BreakerSettings settings, out bool tripped)
    {
        ArgumentNullException.ThrowIfNull(settings);
        tripped = false;
        var windowStart = nowMs - (settings.WindowMinutes * 60_000L);
        while (_admitted.Count > 0 && _admitted.Peek() < windowStart)
        {
            _admitted.Dequeue();
        }

        if (IsOpen(nowMs))
        {
            return false;
        }

        if (_admitted.Count < settings.MaxActions)
        {
            _admitted.Enqueue(nowMs);
            return true;
        }

        OpenUntilMs = nowMs + (settings.OpenMinutes * 60_000L);
        tripped = true;
        return false;
    }

    /// <summary>Counts an action admitted before a restart.</summary>
    public void Remember(long atMs) => _admitted.Enqueue(atMs);

    /// <summary>Reopens the breaker as it was before a restart.</summary>
    public void RememberOpen(long untilMs) => OpenUntilMs = Math.Max(OpenUntilMs, untilMs);
}
