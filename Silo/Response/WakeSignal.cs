namespace AnomalyZT.Silo.Response;

/// <summary>A coalescing wake-up for a polling loop: any number of <see cref="Set"/> calls before the loop waits wake it
/// once.</summary>
public sealed class WakeSignal : IDisposable
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    /// <summary>Wakes the waiter (now, or at its next wait).</summary>
    public void Set()
    {
        if (_signal.CurrentCount != 0)
        {
            return;
        }

        try
        {
            _signal.Release();
        }
        catch (SemaphoreFullException)
        {
            // already set by another thread
        }
    }

    /// <summary>Waits for <see cref="Set"/> or <paramref name="timeout"/>.</summary>
    public Task WaitAsync(TimeSpan timeout, CancellationToken ct) => _signal.WaitAsync(timeout, ct);

    /// <inheritdoc />
    public void Dispose() => _signal.Dispose();
}
