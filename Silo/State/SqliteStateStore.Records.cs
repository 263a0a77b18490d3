using AnomalyZT.Silo.Siem;
using Microsoft.Data.Sqlite;

namespace AnomalyZT.Silo.State;

/// <summary>The SIEM record stream.</summary>
public sealed partial class SqliteStateStore : IRecordStore
{
    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredRecord>> RecordsAfterAsync(long afterSeq, int limit, CancellationToken ct)
    {
        StoreRules.CheckLimit(limit, nameof(limit));
        await using var connection = await OpenReaderAsync(ct);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT seq, json FROM siem_records WHERE seq > $after ORDER BY seq LIMIT $limit;";
        command.Parameters.Add("$after", SqliteType.Integer).Value = afterSeq;
        command.Parameters.Add("$limit", SqliteType.Integer).Value = limit;
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await StoreRules.ReadAllAsync(reader, static r => new StoredRecord(r.GetInt64(0), StoreJson.Record(r.GetString(1))), ct);
    }

    /// <inheritdoc />
    public async Task<long> LatestRecordSeqAsync(CancellationToken ct)
    {
        await using var connection = await OpenReaderAsync(ct);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COALESCE(MAX(seq), 0) FROM siem_records;";
        return Convert.ToInt64(await command.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Appends records inside a writer transaction; a record whose id is already stored is ignored.</summary>
    private static async Task AppendRecordsAsync(SqliteConnection writer, SqliteTransaction transaction, IEnumerable<SiemRecord> records, CancellationToken ct)
    {
        using var command = writer.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO siem_records (id, kind, severity, at_ms, json) VALUES ($id, $kind, $severity, $at, $json)
            ON CONFLICT (id) DO NOTHING;
            """;
        var id = command.Parameters.Add("$id", SqliteType.Text);
        var kind = command.Parameters.Add("$kind", SqliteType.Integer);
        var severity = command.Parameters.Add("$severity", SqliteType.Integer);
        var at = command.Parameters.Add("$at", SqliteType.Integer);
        var json = command.Parameters.Add("$json", SqliteType.Text);
        command.Prepare();
        foreach (var r in records)
        {
            id.Value = r.Id;
            kind.Value = (int)r.Kind;
            severity.Value = (int)r.Severity;
            at.Value = r.TimeMs;
            json.Value = StoreJson.Serialize(r);
            await command.ExecuteNonQueryAsync(ct);
        }
    }
}
