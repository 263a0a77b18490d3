using AnomalyZT.Silo.Siem;
using Npgsql;

namespace AnomalyZT.Silo.State.Postgres;

/// <summary>The SIEM record stream.</summary>
public sealed partial class PostgresStateStore
{
    // Numbered MAX + 1 under the append lock (see the class remarks): a sink that has read up to n never misses a
    // record committed later, because that record is numbered above n.
    private const string AppendRecordSql = """
        INSERT INTO siem_records (seq, id, kind, severity, at_ms, json)
        SELECT COALESCE(MAX(seq), 0) + 1, $1, $2, $3, $4, $5 FROM siem_records
        ON CONFLICT (id) DO NOTHING;
        """;

    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredRecord>> RecordsAfterAsync(long afterSeq, int limit, CancellationToken ct)
    {
        StoreRules.CheckLimit(limit, nameof(limit));
        await using var command = Command("SELECT seq, json FROM siem_records WHERE seq > $1 ORDER BY seq LIMIT $2;");
        Add(command.Parameters, afterSeq);
        Add(command.Parameters, limit);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await StoreRules.ReadAllAsync(reader, static r => new StoredRecord(r.GetInt64(0), StoreJson.Record(r.GetString(1))), ct);
    }

    /// <inheritdoc />
    public async Task<long> LatestRecordSeqAsync(CancellationToken ct)
    {
        await using var command = Command("SELECT COALESCE(MAX(seq), 0) FROM siem_records;");
        return ToLong(await command.ExecuteScalarAsync(ct));
    }

    /// <summary>Queues an append of a record (ignored when its id is already stored); only inside a transaction holding
    /// the append lock.</summary>
    private static void AddRecordInsert(NpgsqlBatch batch, SiemRecord record)
    {
        var command = new NpgsqlBatchCommand(AppendRecordSql);
        AddText(command.Parameters, record.Id);
        Add(command.Parameters, (int)record.Kind);
        Add(command.Parameters, (int)record.Severity);
        Add(command.Parameters, record.TimeMs);
        AddJson(command.Parameters, StoreJson.Serialize(record));
        batch.BatchCommands.Add(command);
    }
}
