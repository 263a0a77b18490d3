using AnomalyZT.Grains.Interfaces;
using Microsoft.Data.Sqlite;

namespace AnomalyZT.Silo.State;

/// <summary>The write side: one checkpoint, one transaction.</summary>
public sealed partial class SqliteStateStore
{
    private const string UpsertSnapshotSql = """
        INSERT INTO grain_snapshots (kind, id, partition, state_version, data, updated_at_ms)
        VALUES ($kind, $id, $partition, $state_version, $data, $updated_at_ms)
        ON CONFLICT (kind, id) DO UPDATE SET
            partition = excluded.partition,
            state_version = excluded.state_version,
            data = excluded.data,
            updated_at_ms = excluded.updated_at_ms;
        """;

    private const string InsertFindingSql = """
        INSERT INTO findings (id, entity_kind, entity_id, detector, feature, bucket_start_ms, severity, json)
        VALUES ($id, $entity_kind, $entity_id, $detector, $feature, $bucket_start_ms, $severity, $json)
        ON CONFLICT (id) DO NOTHING;
        """;

    private const string AppendDeadLetterSql = """
        INSERT INTO dead_letters (received_at_ms, source, line_number, reason, payload)
        VALUES ($received_at_ms, $source, $line_number, $reason, $payload);
        """;

    /// <inheritdoc />
    public async Task CommitAsync(Checkpoint checkpoint, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        if (checkpoint.Progress is not null)
        {
            throw new NotSupportedException("a checkpoint with partition progress belongs to cluster mode, whose state store is PostgreSQL (State:Postgres)");
        }

        if (StoreRules.FindMissingValue(checkpoint) is { } missing)
        {
            throw new ArgumentException(missing, nameof(checkpoint));
        }

        if (StoreRules.IsEmpty(checkpoint))
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return;
        }

        // Serialising is the only CPU work of a commit; do it before taking the single writer.
        var findingJson = StoreJson.Serialize(checkpoint.Findings);

        await _writeLock.WaitAsync(ct);
        try
        {
            var writer = Writer();
            // Disposing without Commit rolls back, so a failure or cancellation anywhere leaves nothing behind.
            using var transaction = writer.BeginTransaction(deferred: false);
            await UpsertSnapshotsAsync(writer, transaction, checkpoint.Snapshots, ct);
            await InsertFindingsAsync(writer, transaction, checkpoint.Findings, findingJson, ct);
            await AppendRecordsAsync(writer, transaction, checkpoint.Findings.Select(Siem.SiemRecord.From), ct);
            await AppendDeadLettersAsync(writer, transaction, checkpoint.DeadLetters, ct);
            transaction.Commit();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private static async Task UpsertSnapshotsAsync(
        SqliteConnection writer, SqliteTransaction transaction, IReadOnlyList<GrainSnapshot> snapshots, CancellationToken ct)
    {
        if (snapshots.Count == 0)
        {
            return;
        }

        using var command = writer.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = UpsertSnapshotSql;
        var kind = command.Parameters.Add("$kind", SqliteType.Integer);
        var id = command.Parameters.Add("$id", SqliteType.Text);
        var partition = command.Parameters.Add("$partition", SqliteType.Integer);
        var stateVersion = command.Parameters.Add("$state_version", SqliteType.Integer);
        var data = command.Parameters.Add("$data", SqliteType.Blob);
        var updatedAt = command.Parameters.Add("$updated_at_ms", SqliteType.Integer);
        command.Prepare();
        for (var i = 0; i < snapshots.Count; i++)
        {
            var snapshot = snapshots[i];
            kind.Value = (int)snapshot.Key.Kind;
            id.Value = snapshot.Key.Id;
            partition.Value = snapshot.Partition;
            stateVersion.Value = snapshot.StateVersion;
            data.Value = snapshot.Data;
            updatedAt.Value = snapshot.UpdatedAtMs;
            await command.ExecuteNonQueryAsync(ct);
        }
    }

    private static async Task InsertFindingsAsync(
        SqliteConnection writer, SqliteTransaction transaction, IReadOnlyList<Finding> findings, string[] json, CancellationToken ct)
    {
        if (findings.Count == 0)
        {
            return;
        }

        using var command = writer.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = InsertFindingSql;
        var id = command.Parameters.Add("$id", SqliteType.Text);
        var entityKind = command.Parameters.Add("$entity_kind", SqliteType.Integer);
        var entityId = command.Parameters.Add("$entity_id", SqliteType.Text);
        var detector = command.Parameters.Add("$detector", SqliteType.Text);
        var feature = command.Parameters.Add("$feature", SqliteType.Text);
        var bucketStart = command.Parameters.Add("$bucket_start_ms", SqliteType.Integer);
        var severity = command.Parameters.Add("$severity", SqliteType.Integer);
        var document = command.Parameters.Add("$json", SqliteType.Text);
        command.Prepare();
        for (var i = 0; i < findings.Count; i++)
        {
            var finding = findings[i];
            id.Value = finding.Id;
            entityKind.Value = (int)finding.EntityKind;
            entityId.Value = finding.EntityId;
            detector.Value = finding.Detector;
            feature.Value = finding.Feature;
            bucketStart.Value = finding.BucketStartMs;
            severity.Value = (int)finding.Severity;
            document.Value = json[i];
            await command.ExecuteNonQueryAsync(ct);
        }
    }

    private static async Task AppendDeadLettersAsync(
        SqliteConnection writer, SqliteTransaction transaction, IReadOnlyList<DeadLetter> deadLetters, CancellationToken ct)
    {
        if (deadLetters.Count == 0)
        {
            return;
        }

        using var command = writer.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = AppendDeadLetterSql;
        var receivedAt = command.Parameters.Add("$received_at_ms", SqliteType.Integer);
        var source = command.Parameters.Add("$source", SqliteType.Text);
        var lineNumber = command.Parameters.Add("$line_number", SqliteType.Integer);
        var reason = command.Parameters.Add("$reason", SqliteType.Text);
        var payload = command.Parameters.Add("$payload", SqliteType.Blob);
        command.Prepare();
        for (var i = 0; i < deadLetters.Count; i++)
        {
            var deadLetter = deadLetters[i];
            receivedAt.Value = deadLetter.ReceivedAtMs;
            source.Value = deadLetter.Source;
            lineNumber.Value = deadLetter.LineNumber;
            reason.Value = deadLetter.Reason;
            payload.Value = deadLetter.Payload;
            await command.ExecuteNonQueryAsync(ct);
        }
    }
}
