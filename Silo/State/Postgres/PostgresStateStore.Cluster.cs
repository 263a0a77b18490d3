using Npgsql;
using NpgsqlTypes;

namespace AnomalyZT.Silo.State.Postgres;

/// <summary>Cluster bookkeeping beyond leases: each partition's last committed progress and silo heartbeats, judged by
/// the database clock.</summary>
public sealed partial class PostgresStateStore
{
    /// <inheritdoc />
    public async Task<PartitionProgress?> LoadProgressAsync(int partition, CancellationToken ct)
    {
        await using var command = Command("SELECT owner, epoch, applied_batch_ids FROM partition_progress WHERE partition = $1;");
        Add(command.Parameters, partition);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct)
            ? new PartitionProgress(partition, ReadText(reader, 0), reader.GetInt64(1), [.. reader.GetFieldValue<string[]>(2).Select(PgText.Decode)])
            : null;
    }

    /// <inheritdoc />
    public async Task HeartbeatAsync(string silo, TimeSpan ttl, CancellationToken ct)
    {
        CheckOwner(silo);
        CheckTtl(ttl);
        await using var command = Command("""
            INSERT INTO silos (silo, expires_at) VALUES ($1, now() + $2)
            ON CONFLICT (silo) DO UPDATE SET expires_at = excluded.expires_at;
            """);
        AddText(command.Parameters, silo);
        Add(command.Parameters, ttl);
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> LiveSilosAsync(CancellationToken ct)
    {
        await using var command = Command("SELECT silo FROM silos WHERE expires_at > now() ORDER BY silo;");
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await StoreRules.ReadAllAsync(reader, static r => ReadText(r, 0), ct);
    }

    /// <inheritdoc />
    public async Task LeaveAsync(string silo, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(silo);
        await using var command = Command("DELETE FROM silos WHERE silo = $1;");
        AddText(command.Parameters, silo);
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Queues the replacement of a partition's progress; only after <see cref="FenceAsync"/> in the same
    /// transaction.</summary>
    private static void AddProgressUpsert(NpgsqlBatch batch, PartitionProgress progress)
    {
        var command = new NpgsqlBatchCommand("""
            INSERT INTO partition_progress (partition, owner, epoch, applied_batch_ids) VALUES ($1, $2, $3, $4)
            ON CONFLICT (partition) DO UPDATE SET
                owner = excluded.owner, epoch = excluded.epoch, applied_batch_ids = excluded.applied_batch_ids;
            """);
        Add(command.Parameters, progress.Partition);
        AddText(command.Parameters, progress.Owner);
        Add(command.Parameters, progress.Epoch);
        command.Parameters.Add(new NpgsqlParameter<string[]>
        {
            TypedValue = [.. (progress.AppliedBatchIds ?? []).Select(PgText.Encode)],
            NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text,
        });
        batch.BatchCommands.Add(command);
    }
}
