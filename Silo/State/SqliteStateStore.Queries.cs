using System.Text;
using System.Text.Json;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.Serialization;
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
        var snapshots = new List<GrainSnapshot>();
        while (await reader.ReadAsync(ct))
        {
            snapshots.Add(ReadSnapshot(reader));
        }

        return snapshots;
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
        ArgumentNullException.ThrowIfNull(query);
        CheckLimit(query.Limit, nameof(query));
        var after = query.Cursor is null ? ((long, string)?)null : FindingCursor.Decode(query.Cursor, nameof(query));

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
        var items = new List<Finding>(Math.Min(query.Limit, 64));
        var hasMore = false;
        while (await reader.ReadAsync(ct))
        {
            if (items.Count == query.Limit)
            {
                hasMore = true;
                break;
            }

            items.Add(ReadFinding(reader));
        }

        var next = hasMore ? FindingCursor.Encode(items[^1].BucketStartMs, items[^1].Id) : null;
        return new FindingPage(items, next);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<Finding>> RecentFindingsAsync(EntityKey key, int limit, CancellationToken ct)
    {
        CheckLimit(limit, nameof(limit));
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
        var items = new List<Finding>(limit);
        while (await reader.ReadAsync(ct))
        {
            items.Add(ReadFinding(reader));
        }

        return items;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<DeadLetter>> QueryDeadLettersAsync(long afterId, int limit, CancellationToken ct)
    {
        CheckLimit(limit, nameof(limit));
        await using var connection = await OpenReaderAsync(ct);
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT id, received_at_ms, source, line_number, reason, payload
            FROM dead_letters WHERE id > $after_id ORDER BY id LIMIT $limit;
            """;
        command.Parameters.Add("$after_id", SqliteType.Integer).Value = afterId;
        command.Parameters.Add("$limit", SqliteType.Integer).Value = limit;
        await using var reader = await command.ExecuteReaderAsync(ct);
        var deadLetters = new List<DeadLetter>(Math.Min(limit, 64));
        while (await reader.ReadAsync(ct))
        {
            deadLetters.Add(new DeadLetter(
                reader.GetInt64(0),
                reader.GetInt64(1),
                reader.GetString(2),
                reader.GetInt32(3),
                reader.GetString(4),
                reader.GetFieldValue<byte[]>(5)));
        }

        return deadLetters;
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

    private static Finding ReadFinding(SqliteDataReader reader) =>
        JsonSerializer.Deserialize(reader.GetString(0), AnomalyJsonContext.Default.Finding)
        ?? throw new InvalidDataException($"The findings row '{reader.GetString(2)}' holds JSON null.");
}
