using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.Runtime;
using AnomalyZT.Silo.State;

namespace AnomalyZT.Silo.Receivers;

/// <summary>Hands socket receivers' batches to the runtime. A stream receiver (TCP, TLS) waits until its batch is
/// admitted, which stops it reading and pushes back on the sender through TCP flow control: nothing is lost. A datagram
/// receiver cannot push back; it tries for a bounded time and reports the batch as refused (counted, never silent).
/// A runtime that throws (a store or broker failure) is treated like one that refuses: the batch is retried, never
/// lost to an exception that would end the receiver's loop.</summary>
public sealed partial class ReceiverDispatcher(IGrainRuntime runtime, ReceiverStats stats, TimeProvider time, ILogger<ReceiverDispatcher>? log = null)
{
    private readonly WarningGate _failureGate = new(time, TimeSpan.FromMinutes(1));

    private static readonly TimeSpan MinWait = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(2);

    /// <summary>The counters every receiver reports to.</summary>
    public ReceiverStats Stats => stats;

    /// <summary>Dispatches until admitted, waiting the runtime's Retry-After (20 ms to 2 s) between tries, or until
    /// <paramref name="giveUpAfter"/> (null = never) passes. True when admitted; false when cancelled or given up.</summary>
    public async ValueTask<bool> DispatchAsync(ReadOnlyMemory<EngineEvent> events, IReadOnlyList<DeadLetter> letters, TimeSpan? giveUpAfter, CancellationToken ct)
    {
        if (events.Length == 0 && letters.Count == 0)
        {
            return true;
        }

        var started = time.GetTimestamp();
        while (!ct.IsCancellationRequested)
        {
            DispatchResult result;
            try
            {
                result = await runtime.DispatchAsync(events, letters, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return false;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                if (log is not null && _failureGate.TryEnter(out var suppressed))
                {
                    LogDispatchFailed(log, e, events.Length, suppressed);
                }

                result = new DispatchResult(false, 0, 0, MaxWait);
            }

            if (result.Admitted)
            {
                return true;
            }

            var wait = result.RetryAfter < MinWait ? MinWait : result.RetryAfter > MaxWait ? MaxWait : result.RetryAfter;
            if (giveUpAfter is { } limit && time.GetElapsedTime(started) + wait > limit)
            {
                return false;
            }

            try
            {
                await Task.Delay(wait, time, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }

        return false;
    }

    [LoggerMessage(EventId = 7301, Level = LogLevel.Error,
        Message = "The runtime failed to take a batch of {Count} events; it is retried like a refused one ({Suppressed} more failures not logged)")]
    private static partial void LogDispatchFailed(ILogger logger, Exception exception, int count, long suppressed);
}
