using System.Text;
using AnomalyZT.Grains.Interfaces;
using Npgsql;

namespace AnomalyZT.Silo.State.Postgres;

/// <summary>The read side: each query one statement on a pooled connection.</summary>
public sealed partial class PostgresStateStore
{
    private const string SnapshotColumns = "SELECT kind, id, partition, state_version, data, updated_at_ms FROM grain_snapshots ";

    /// <inheritdoc />
    public async Task<IReadOnlyList<GrainSnapshot>> LoadSnapshotsAsync(int partition, CancellationToken ct)
    {
        await using var command = Command(SnapshotColumns + "WHERE partition = $1 ORDER BY kind, id;");
        Add(command.Parameters, partition);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await StoreRules.ReadAllAsync(reader, ReadSnapshot, ct);
    }

    /// <inheritdoc />
    public async Task<GrainSnapshot?> LoadSnapshotAsync(EntityKey key, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(key.Id, nameof(key));
        await using var command = Command(SnapshotColumns + "WHERE kind = $1 AND id = $2;");
        Add(command.Parameters, (int)key.Kind);
        AddText(command.Parameters, key.Id);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? ReadSnapshot(reader) : null;
    }

    /// <inheritdoc />
    public async Task<int> MaxSnapshotPartitionAsync(CancellationToken ct)
    {
        await using var command = Command("SELECT COALESCE(MAX(partition), -1) FROM grain_snapshots;");
        return (int)ToLong(await command.ExecuteScalarAsync(ct));
    }

    /// <inheritdoc />
    public async Task<FindingPage> QueryFindingsAsync(FindingQuery query, CancellationToken ct)
    {
        var after = StoreRules.CheckFindingQuery(query, nameof(query));

        ThrowIfNotOpen();
        await using var command = _dataSource.CreateCommand();
        // Only constant fragments and parameter numbers are concatenated; every value travels as a parameter.
        var sql = new StringBuilder("SELECT json, bucket_start_ms, id FROM findings WHERE TRUE");
        if (query.Kind is { } kind)
        {
            Add(command.Parameters, (int)kind);
            sql.Append(" AND entity_kind = $").Append(command.Parameters.Count);
        }

        if (query.EntityId is { } entityId)
        {
            AddText(command.Parameters, entityId);
            sql.Append(" AND entity_id = $").Append(command.Parameters.Count);
        }

        if (query.Detector is { } detector)
        {
            AddText(command.Parameters, detector);
            sql.Append(" AND detector = $").Append(command.Parameters.Count);
        }

        if (query.SinceMs is { } sinceMs)
        {
            Add(command.Parameters, sinceMs);
            sql.Append(" AND bucket_start_ms >= $").Append(command.Parameters.Count);
        }

        if (after is (long afterBucket, string afterId))
        {
            Add(command.Parameters, afterBucket);
            AddText(command.Parameters, afterId);
            sql.Append(" AND (bucket_start_ms, id) > ($").Append(command.Parameters.Count - 1)
                .Append(", $").Append(command.Parameters.Count).Append(')');
        }

        // One row more than the page tells whether another page exists without a second query.
        Add(command.Parameters, query.Limit + 1);
        sql.Append(" ORDER BY bucket_start_ms, id LIMIT $").Append(command.Parameters.Count).Append(';');
        command.CommandText = sql.ToString();

        await using var reader = await command.ExecuteReaderAsync(ct);
        return await StoreRules.ReadFindingPageAsync(reader, query.Limit, ReadFinding, ct);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<Finding>> RecentFindingsAsync(EntityKey key, int limit, CancellationToken ct)
    {
        StoreRules.CheckLimit(limit, nameof(limit));
        ArgumentNullException.ThrowIfNull(key.Id, nameof(key));
        await using var command = Command("""
            SELECT json, bucket_start_ms, id FROM findings
            WHERE entity_kind = $1 AND entity_id = $2
            ORDER BY bucket_start_ms DESC, id DESC LIMIT $3;
            """);
        Add(command.Parameters, (int)key.Kind);
        AddText(command.Parameters, key.Id);
        Add(command.Parameters, limit);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await StoreRules.ReadAllAsync(reader, ReadFinding, ct, limit);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<DeadLetter>> QueryDeadLettersAsync(long afterId, int limit, CancellationToken ct)
    {
        StoreRules.CheckLimit(limit, nameof(limit));
        await using var command = Command("""
            SELECT id, received_at_ms, source, line_number, reason, payload
            FROM dead_letters WHERE id > $1 ORDER BY id LIMIT $2;
            """);
        Add(command.Parameters, afterId);
        Add(command.Parameters, limit);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await StoreRules.ReadAllAsync(reader, static r => new DeadLetter(
                r.GetInt64(0),
                r.GetInt64(1),
                ReadText(r, 2),
                r.GetInt32(3),
                ReadText(r, 4),
                r.GetFieldValue<byte[]>(5)), ct, Math.Min(limit, 64));
    }

    /// <inheritdoc />
    public async Task<long> CountDeadLettersAsync(CancellationToken ct)
    {
        await using var command = Command("SELECT COUNT(*) FROM dead_letters;");
        return ToLong(await command.ExecuteScalarAsync(ct));
    }

    private static GrainSnapshot ReadSnapshot(NpgsqlDataReader reader) => new(
        new EntityKey(ReadKind(reader, 0), ReadText(reader, 1)),
        reader.GetInt32(2),
        reader.GetInt32(3),
        reader.GetFieldValue<byte[]>(4),
        reader.GetInt64(5));

    /// <summary>Reads the finding of a row whose first column is its JSON and third its id.</summary>
    private static Finding ReadFinding(NpgsqlDataReader reader) => StoreJson.Finding(reader, ReadText);
}
