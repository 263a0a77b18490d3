using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Silo.State;

/// <summary>Durable engine state: grain snapshots, findings and dead letters. SQLite in embedded mode,
/// PostgreSQL in cluster mode.</summary>
/// <remarks>Implementations are safe to call from many threads; writes are serialised by the store.</remarks>
public interface IStateStore : IAsyncDisposable
{
    /// <summary>Opens the store and applies pending schema migrations. Calling it again is a no-op.</summary>
    /// <exception cref="InvalidOperationException">The database was written by a newer version of the engine.</exception>
    Task InitializeAsync(CancellationToken ct);

    /// <summary>Writes a checkpoint in one transaction: upserts its snapshots, inserts its findings
    /// (a finding whose id is already stored is ignored) and appends its dead letters. Either all of it
    /// is durable when the task completes, or none of it is.</summary>
    /// <exception cref="ArgumentException">An item of the checkpoint lacks a required value; nothing was written.</exception>
    Task CommitAsync(Checkpoint checkpoint, CancellationToken ct);

    /// <summary>Every snapshot of one partition, ordered by kind then id.</summary>
    Task<IReadOnlyList<GrainSnapshot>> LoadSnapshotsAsync(int partition, CancellationToken ct);

    /// <summary>The highest partition number any snapshot was stored under, or -1 when there are none; lets a silo
    /// whose partition count changed still find every grain.</summary>
    Task<int> MaxSnapshotPartitionAsync(CancellationToken ct);

    /// <summary>The snapshot of one grain, or <see langword="null"/> when none was committed.</summary>
    Task<GrainSnapshot?> LoadSnapshotAsync(EntityKey key, CancellationToken ct);

    /// <summary>One page of findings matching <paramref name="query"/>, ordered by
    /// (<see cref="Finding.BucketStartMs"/>, <see cref="Finding.Id"/>) ascending.</summary>
    /// <exception cref="ArgumentException">The cursor is not one this store issued, or the limit is outside 1..1000.</exception>
    Task<FindingPage> QueryFindingsAsync(FindingQuery query, CancellationToken ct);

    /// <summary>The newest <paramref name="limit"/> (1..1000) findings of one entity, newest bucket first.</summary>
    Task<IReadOnlyList<Finding>> RecentFindingsAsync(EntityKey key, int limit, CancellationToken ct);

    /// <summary>Up to <paramref name="limit"/> (1..1000) dead letters whose id is greater than
    /// <paramref name="afterId"/>, in id order.</summary>
    Task<IReadOnlyList<DeadLetter>> QueryDeadLettersAsync(long afterId, int limit, CancellationToken ct);

    /// <summary>Number of dead letters stored.</summary>
    Task<long> CountDeadLettersAsync(CancellationToken ct);

    /// <summary>Highest schema migration applied to the database.</summary>
    Task<int> SchemaVersionAsync(CancellationToken ct);
}
