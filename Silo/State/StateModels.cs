using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Silo.State;

/// <summary>The serialised state of one grain as of a checkpoint.</summary>
/// <param name="Key">The grain.</param>
/// <param name="Partition">Partition that owns the grain (indexed, so a partition restores in one query).</param>
/// <param name="StateVersion">Version of the grain's state format, so a newer build can migrate old bytes.</param>
/// <param name="Data">The state bytes, stored and returned exactly as given.</param>
/// <param name="UpdatedAtMs">When the snapshot was taken, Unix milliseconds UTC.</param>
public sealed record GrainSnapshot(EntityKey Key, int Partition, int StateVersion, byte[] Data, long UpdatedAtMs);

/// <summary>Input the engine could not use, kept so an operator can see and replay it.</summary>
/// <param name="Id">Assigned by the store, increasing; pass 0 when appending (any other value is ignored).</param>
/// <param name="ReceivedAtMs">When the input arrived, Unix milliseconds UTC.</param>
/// <param name="Source">Where it came from, e.g. <c>http:envoy</c>, <c>replay:gpu</c>, <c>late:identity/alice</c>.</param>
/// <param name="LineNumber">Line of the input within its body or file, 0 when not line-based.</param>
/// <param name="Reason">Why it was rejected.</param>
/// <param name="Payload">The input, stored as given (callers truncate it).</param>
public sealed record DeadLetter(long Id, long ReceivedAtMs, string Source, int LineNumber, string Reason, byte[] Payload);

/// <summary>What one partition commits at once: the unit of durability (checkpoint, then ack).</summary>
/// <param name="Snapshots">Snapshots to insert or replace.</param>
/// <param name="Findings">Findings to insert; ids already stored are ignored.</param>
/// <param name="DeadLetters">Dead letters to append.</param>
public sealed record Checkpoint(
    IReadOnlyList<GrainSnapshot> Snapshots,
    IReadOnlyList<Finding> Findings,
    IReadOnlyList<DeadLetter> DeadLetters)
{
    /// <summary>Cluster mode: the partition's consumption progress, committed with the checkpoint and fenced by the
    /// lease epoch; null in embedded mode.</summary>
    public PartitionProgress? Progress { get; init; }
}

/// <summary>What a cluster partition applied since its last ack, fenced by its lease.</summary>
/// <param name="Partition">The partition.</param>
/// <param name="Owner">The silo committing.</param>
/// <param name="Epoch">The lease epoch the silo holds; the commit is refused if the lease moved on.</param>
/// <param name="AppliedBatchIds">Batches applied since the last ack (skipped if the broker redelivers them).</param>
public sealed record PartitionProgress(int Partition, string Owner, long Epoch, string[] AppliedBatchIds);

/// <summary>A commit was refused because the partition's lease is held by another silo or a newer epoch.</summary>
public sealed class LeaseLostException(string message) : Exception(message);

/// <summary>Filters and position of a findings query. Null filters match everything.</summary>
/// <param name="Kind">Only findings about entities of this kind.</param>
/// <param name="EntityId">Only findings about the entity with this id.</param>
/// <param name="Detector">Only findings of this detector.</param>
/// <param name="SinceMs">Only findings whose bucket starts at or after this time, Unix milliseconds UTC.</param>
/// <param name="Cursor"><see cref="FindingPage.NextCursor"/> of the previous page, or null for the first page.</param>
/// <param name="Limit">Most findings in the page, 1..1000.</param>
public sealed record FindingQuery(
    EntityKind? Kind,
    string? EntityId,
    string? Detector,
    long? SinceMs,
    string? Cursor,
    int Limit);

/// <summary>One page of findings in (bucket start, id) order.</summary>
/// <param name="Items">The findings.</param>
/// <param name="NextCursor">Opaque position to pass as <see cref="FindingQuery.Cursor"/> for the next page;
/// null when this is the last page.</param>
public sealed record FindingPage(IReadOnlyList<Finding> Items, string? NextCursor);
