using System.Text;
using AnomalyZT.Grains.Interfaces;
using Microsoft.Data.Sqlite;

namespace AnomalyZT.Silo.State;

/// <summary>The read side: each query on its own short-lived read-only connection.</summary>
public sealed partial class SqliteStateStore
{
    private const string SnapshotColumns = "SELECT kind, id, partition, state_version, data, updated_at_ms FROM grain_snapshots ";

    /// <inheritdoc />
    public async Task<IReadOnlyList<GrainSnapshot>> LoadSnapshotsAsync(int partition, CancellationToken ct)
    {
        await using var connection = await OpenReaderAsync(ct);
        using var command = connection.CreateCommand();
        command.CommandText = SnapshotColumns + "WHERE partition = $partition ORDER BY kind, id;";
        command.Parameters.Add("$partition", SqliteType.Integer).Value = partition;
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await StoreRules.ReadAllAsync(reader, ReadSnapshot, ct);
    }

    /// <inheritdoc />
    public async Task<GrainSnapshot?> LoadSnapshotAsync(EntityKey key, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(key.Id, nameof(key));
        await using var connection = await OpenReaderAsync(ct);
        using var command = connection.CreateCommand();
        command.CommandText = SnapshotColumns + "WHERE kind = $kind AND id = $id;";
        command.Parameters.Add("$kind", SqliteType.Integer).Value = (int)key.Kind;
        command.Parameters.Add("$id", SqliteType.Text).Value = key.Id;
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? ReadSnapshot(reader) : null;
    }

    /// <inheritdoc />
    public async Task<FindingPage> QueryFindingsAsync(FindingQuery query, CancellationToken ct)
    {
        var after = StoreRules.CheckFindingQuery(query, nameof(query));

        await using var connection = await OpenReaderAsync(ct);
        using var command = connection.CreateCommand();
        // Only constant fragments are concatenated; every value travels as a parameter.
        var sql = new StringBuilder("SELECT json, bucket_start_ms, id FROM findings WHERE 1 = 1");
        if (query.Kind is { } kind)
        {
            sql.Append(" AND entity_kind = $kind");
            command.Parameters.Add("$kind", SqliteType.Integer).Value = (int)kind;
        }

        if (query.EntityId is { } entityId)
        {
            sql.Append(" AND entity_id = $entity_id");
            command.Parameters.Add("$entity_id", SqliteType.Text).Value = entityId;
        }

        if (query.Detector is { } detector)
        {
            sql.Append(" AND detector = $detector");
            command.Parameters.Add("$detector", SqliteType.Text).Value = detector;
        }

        if (query.SinceMs is { } sinceMs)
        {
            sql.Append(" AND bucket_start_ms >= $since_ms");
            command.Parameters.Add("$since_ms", SqliteType.Integer).Value = sinceMs;
        }

        if (after is (long afterBucket, string afterId))
        {
            sql.Append(" AND (bucket_start_ms, id) > ($after_bucket, $after_id)");
            command.Parameters.Add("$after_bucket", SqliteType.Integer).Value = afterBucket;
            command.Parameters.Add("$after_id", SqliteType.Text).Value = afterId;
        }

        // One row more than the page tells whether another page exists without a second query.
        sql.Append(" ORDER BY bucket_start_ms, id LIMIT $limit;");
        command.Parameters.Add("$limit", SqliteType.Integer).Value = query.Limit + 1;
        command.CommandText = sql.ToString();

        await using var reader = await command.ExecuteReaderAsync(ct);
        return await StoreRules.ReadFindingPageAsync(reader, query.Limit, ReadFinding, ct);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<Finding>> RecentFindingsAsync(EntityKey key, int limit, CancellationToken ct)
    {
        StoreRules.CheckLimit(limit, nameof(limit));
        await using var connection = await OpenReaderAsync(ct);
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT json, bucket_start_ms, id FROM findings
            WHERE entity_kind = $kind AND entity_id = $entity_id
            ORDER BY bucket_start_ms DESC, id DESC LIMIT $limit;
            """;
        command.Parameters.Add("$kind", SqliteType.Integer).Value = (int)key.Kind;
        command.Parameters.Add("$entity_id", SqliteType.Text).Value = key.Id;
        command.Parameters.Add("$limit", SqliteType.Integer).Value = limit;
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await StoreRules.ReadAllAsync(reader, ReadFinding, ct, limit);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<DeadLetter>> QueryDeadLettersAsync(long afterId, int limit, CancellationToken ct)
    {
        StoreRules.CheckLimit(limit, nameof(limit));
        await using var connection = await OpenReaderAsync(ct);
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT id, received_at_ms, source, line_number, reason, payload
            FROM dead_letters WHERE id > $after_id ORDER BY id LIMIT $limit;
            """;
        command.Parameters.Add("$after_id", SqliteType.Integer).Value = afterId;
        command.Parameters.Add("$limit", SqliteType.Integer).Value = limit;
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await StoreRules.ReadAllAsync(reader, static r => new DeadLetter(
                r.GetInt64(0),
                r.GetInt64(1),
                r.GetString(2),
                r.GetInt32(3),
                r.GetString(4),
                r.GetFieldValue<byte[]>(5)), ct, Math.Min(limit, 64));
    }

    /// <inheritdoc />
    public async Task<long> CountDeadLettersAsync(CancellationToken ct)
    {
        await using var connection = await OpenReaderAsync(ct);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM dead_letters;";
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }

    /// <inheritdoc />
    public async Task<int> MaxSnapshotPartitionAsync(CancellationToken ct)
    {
        await using var connection = await OpenReaderAsync(ct);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COALESCE(MAX(partition), -1) FROM grain_snapshots;";
        return Convert.ToInt32(await command.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static GrainSnapshot ReadSnapshot(SqliteDataReader reader) => new(
        new EntityKey(ReadKind(reader, 0), reader.GetString(1)),
        reader.GetInt32(2),
        reader.GetInt32(3),
        reader.GetFieldValue<byte[]>(4),
        reader.GetInt64(5));

    /// <summary>Reads the finding of a row whose first column is its JSON and third its id.</summary>
    private static Finding ReadFinding(SqliteDataReader reader) => StoreJson.Finding(reader, static (r, i) => r.GetString(i));
}
