using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.Siem;
using Npgsql;

namespace AnomalyZT.Silo.State.Postgres;

/// <summary>The write side of a checkpoint: one transaction; snapshots first, then the sequenced appends under the
/// append lock.</summary>
public sealed partial class PostgresStateStore
{
    private const string UpsertSnapshotSql = """
        INSERT INTO grain_snapshots (kind, id, partition, state_version, data, updated_at_ms)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (kind, id) DO UPDATE SET
            partition = excluded.partition,
            state_version = excluded.state_version,
            data = excluded.data,
            updated_at_ms = excluded.updated_at_ms;
        """;

    // Numbered MAX + 1 under the append lock: gap-free and in commit order. An id already stored inserts nothing and
    // uses no number.
    private const string InsertFindingSql = """
        INSERT INTO findings (seq, id, entity_kind, entity_id, detector, feature, bucket_start_ms, severity, json)
        SELECT COALESCE(MAX(seq), 0) + 1, $1, $2, $3, $4, $5, $6, $7, $8 FROM findings
        ON CONFLICT (id) DO NOTHING;
        """;

    private const string AppendDeadLetterSql = """
        INSERT INTO dead_letters (id, received_at_ms, source, line_number, reason, payload)
        SELECT COALESCE(MAX(id), 0) + 1, $1, $2, $3, $4, $5 FROM dead_letters;
        """;

    /// <inheritdoc />
    public async Task CommitAsync(Checkpoint checkpoint, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        if (StoreRules.FindMissingValue(checkpoint) is { } missing)
        {
            throw new ArgumentException(missing, nameof(checkpoint));
        }

        if (StoreRules.IsEmpty(checkpoint) && checkpoint.Progress is null)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return;
        }

        // Serialise before taking a connection, let alone the append lock.
        var findingJson = StoreJson.Serialize(checkpoint.Findings);

        var records = checkpoint.Findings.Select(SiemRecord.From).ToList();
        await using var connection = await OpenAsync(ct);
        // Disposing without Commit rolls back, so a failure or cancellation anywhere leaves nothing behind.
        await using var transaction = await connection.BeginTransactionAsync(ct);
        if (checkpoint.Progress is { } progress)
        {
            await FenceAsync(connection, transaction, progress, ct);
        }

        if (checkpoint.Snapshots.Count > 0 || checkpoint.Progress is not null)
        {
            await using var upserts = new NpgsqlBatch(connection, transaction);
            foreach (var snapshot in checkpoint.Snapshots)
            {
                AddSnapshotUpsert(upserts, snapshot);
            }

            if (checkpoint.Progress is { } applied)
            {
                AddProgressUpsert(upserts, applied);
            }

            await upserts.ExecuteNonQueryAsync(ct);
        }

        if (checkpoint.Findings.Count > 0 || checkpoint.DeadLetters.Count > 0)
        {
            await LockAppendsAsync(connection, transaction, ct);
            await using var appends = new NpgsqlBatch(connection, transaction);
            for (var i = 0; i < checkpoint.Findings.Count; i++)
            {
                AddFindingInsert(appends, checkpoint.Findings[i], findingJson[i]);
            }

            foreach (var record in records)
            {
                AddRecordInsert(appends, record);
            }

            foreach (var deadLetter in checkpoint.DeadLetters)
            {
                AddDeadLetterAppend(appends, deadLetter);
            }

            await appends.ExecuteNonQueryAsync(ct);
        }

        // Not cancellable: once COMMIT is sent, cancelling could report failure for a checkpoint that is durable.
        await transaction.CommitAsync(CancellationToken.None);
    }

    /// <summary>Refuses the checkpoint unless <paramref name="progress"/>'s owner still holds the partition's lease at
    /// its epoch (an expired lease nobody took yet still counts). The lease row stays share-locked until the commit
    /// ends, so a silo taking the partition over waits for this commit and cannot slip in between check and commit.
    /// </summary>
    /// <exception cref="LeaseLostException">Another owner or a newer epoch holds the lease, or there is none.</exception>
    private static async Task FenceAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, PartitionProgress progress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(progress.Owner, nameof(progress));
        await using var command = new NpgsqlCommand(
            "SELECT owner, epoch FROM partition_leases WHERE partition = $1 FOR SHARE;", connection, transaction);
        Add(command.Parameters, progress.Partition);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var (owner, epoch) = await reader.ReadAsync(ct) ? (ReadText(reader, 0), reader.GetInt64(1)) : (null, 0L);
        if (owner != progress.Owner || epoch != progress.Epoch)
        {
            throw new LeaseLostException(FormattableString.Invariant(
                $"The checkpoint of partition {progress.Partition} by '{progress.Owner}' at lease epoch {progress.Epoch} was refused: ")
                + (owner is null
                    ? "the partition has no lease."
                    : FormattableString.Invariant($"the lease is held by '{owner}' at epoch {epoch}."))
                + " Nothing was written.");
        }
    }

    private static void AddSnapshotUpsert(NpgsqlBatch batch, GrainSnapshot snapshot)
    {
        var command = new NpgsqlBatchCommand(UpsertSnapshotSql);
        Add(command.Parameters, (int)snapshot.Key.Kind);
        AddText(command.Parameters, snapshot.Key.Id);
        Add(command.Parameters, snapshot.Partition);
        Add(command.Parameters, snapshot.StateVersion);
        Add(command.Parameters, snapshot.Data);
        Add(command.Parameters, snapshot.UpdatedAtMs);
        batch.BatchCommands.Add(command);
    }

    /// <summary>Queues an insert-or-ignore of a finding; only inside a transaction holding the append lock.</summary>
    private static void AddFindingInsert(NpgsqlBatch batch, Finding finding, string json)
    {
        var command = new NpgsqlBatchCommand(InsertFindingSql);
        AddText(command.Parameters, finding.Id);
        Add(command.Parameters, (int)finding.EntityKind);
        AddText(command.Parameters, finding.EntityId);
        AddText(command.Parameters, finding.Detector);
        AddText(command.Parameters, finding.Feature);
        Add(command.Parameters, finding.BucketStartMs);
        Add(command.Parameters, (int)finding.Severity);
        AddJson(command.Parameters, json);
        batch.BatchCommands.Add(command);
    }

    /// <summary>Queues a dead letter append; only inside a transaction holding the append lock.</summary>
    private static void AddDeadLetterAppend(NpgsqlBatch batch, DeadLetter deadLetter)
    {
        var command = new NpgsqlBatchCommand(AppendDeadLetterSql);
        Add(command.Parameters, deadLetter.ReceivedAtMs);
        AddText(command.Parameters, deadLetter.Source);
        Add(command.Parameters, deadLetter.LineNumber);
        AddText(command.Parameters, deadLetter.Reason);
        Add(command.Parameters, deadLetter.Payload);
        batch.BatchCommands.Add(command);
    }
}
