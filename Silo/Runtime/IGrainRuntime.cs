using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.State;

namespace AnomalyZT.Silo.Runtime;

/// <summary>Outcome of handing a batch of events to the runtime.</summary>
/// <param name="Admitted">False when a partition had no room: nothing of the batch was taken; retry after <paramref name="RetryAfter"/>.</param>
/// <param name="Routed">Grain messages enqueued (a flow between two known nodes counts twice).</param>
/// <param name="Unattributed">Events no grain owns (flows between addresses the inventory does not know).</param>
/// <param name="RetryAfter">When to retry a refused batch.</param>
public readonly record struct DispatchResult(bool Admitted, int Routed, int Unattributed, TimeSpan RetryAfter);

/// <summary>The seam between ingest and the grains: embedded (in-process partitions) or cluster (RabbitMQ queues).</summary>
public interface IGrainRuntime : IAsyncDisposable
{
    /// <summary>Partitions the key space is split into.</summary>
    int PartitionCount { get; }

    /// <summary>Restores grain state and starts the partition workers.</summary>
    Task StartAsync(CancellationToken ct);

    /// <summary>True once started and until stopped.</summary>
    bool IsRunning { get; }

    /// <summary>Routes and enqueues a batch with the dead letters of its rejected lines, all or nothing: either
    /// everything is admitted (and becomes durable with the next checkpoint), or nothing is and the caller answers 429.
    /// Never blocks.</summary>
    DispatchResult TryDispatch(ReadOnlySpan<EngineEvent> events, IReadOnlyList<DeadLetter> deadLetters);

    /// <summary>Like <see cref="TryDispatch"/>, but may wait for durability: in cluster mode the task completes only once
    /// the broker confirmed every partition's share (so a 2xx means durable), or refuses the whole batch.</summary>
    ValueTask<DispatchResult> DispatchAsync(ReadOnlyMemory<EngineEvent> events, IReadOnlyList<DeadLetter> deadLetters, CancellationToken ct) =>
        ValueTask.FromResult(TryDispatch(events.Span, deadLetters));

    /// <summary>Waits until every partition has processed what was enqueued before the call, then checkpoints.</summary>
    Task FlushAsync(CancellationToken ct);

    /// <summary>Closes every open bucket now (end of a replayed input), then flushes.</summary>
    Task CloseAllAsync(CancellationToken ct);

    /// <summary>The grain of <paramref name="key"/> as its partition sees it, or null if it has none.</summary>
    Task<EntityView?> DescribeAsync(EntityKey key, CancellationToken ct);

    /// <summary>Switches every partition to <paramref name="config"/> at the same point of its queue; features whose
    /// settings did not change keep their state.</summary>
    Task ReconfigureAsync(Grains.Config.DetectionConfig config, CancellationToken ct);

    /// <summary>Drains the partitions, writes a last checkpoint and stops.</summary>
    Task StopAsync(CancellationToken ct);
}
