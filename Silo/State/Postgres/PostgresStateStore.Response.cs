using System.Text;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.Siem;
using Npgsql;
using NpgsqlTypes;

namespace AnomalyZT.Silo.State.Postgres;

/// <summary>The response side: outbox, audit chain, risk and consumer cursors.</summary>
public sealed partial class PostgresStateStore
{
    private const string ActionColumns = "SELECT json, token FROM response_actions ";

    private const string UpsertCursorSql = """
        INSERT INTO consumer_cursors (name, position) VALUES ($1, $2)
        ON CONFLICT (name) DO UPDATE SET position = excluded.position;
        """;

    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredFinding>> FindingsAfterAsync(long afterSeq, int limit, CancellationToken ct)
    {
        StoreRules.CheckLimit(limit, nameof(limit));
        await using var command = Command("SELECT json, seq, id FROM findings WHERE seq > $1 ORDER BY seq LIMIT $2;");
        Add(command.Parameters, afterSeq);
        Add(command.Parameters, limit);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await StoreRules.ReadAllAsync(reader, static r => new StoredFinding(r.GetInt64(1), ReadFinding(r)), ct);
    }

    /// <inheritdoc />
    public async Task<long> CursorAsync(string name, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(name);
        await using var command = Command("SELECT position FROM consumer_cursors WHERE name = $1;");
        AddText(command.Parameters, name);
        return await command.ExecuteScalarAsync(ct) is long position ? position : 0;
    }

    /// <inheritdoc />
    public async Task SetCursorAsync(string name, long position, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(name);
        await using var command = Command(UpsertCursorSql);
        AddText(command.Parameters, name);
        Add(command.Parameters, position);
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> CommitResponseAsync(ResponseCommit commit, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(commit);
        var findingJson = StoreJson.Serialize(commit.Findings);
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        await using var connection = await OpenAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await LockAppendsAsync(connection, transaction, ct);

        var inserted = new List<string>();
        if (commit.Actions.Count > 0)
        {
            await using var actions = new NpgsqlBatch(connection, transaction);
            foreach (var action in commit.Actions)
            {
                AddActionInsert(actions, action);
            }

            await actions.ExecuteNonQueryAsync(ct);
            for (var i = 0; i < commit.Actions.Count; i++)
            {
                if (actions.BatchCommands[i].RecordsAffected == 1)
                {
                    inserted.Add(commit.Actions[i].Id);
                }
            }
        }

        var lines = StoreRules.AuditLines(commit, inserted, now);
        await using var rest = new NpgsqlBatch(connection, transaction);
        var chain = await AuditHeadAsync(connection, transaction, ct);
        foreach (var (audit, json, _) in lines)
        {
            chain = AddAuditAppend(rest, chain, now, audit, json);
        }

        foreach (var risk in commit.Risks)
        {
            var upsert = new NpgsqlBatchCommand("""
                INSERT INTO identity_risk (identity_id, as_of_ms, json) VALUES ($1, $2, $3)
                ON CONFLICT (identity_id) DO UPDATE SET as_of_ms = excluded.as_of_ms, json = excluded.json;
                """);
            AddText(upsert.Parameters, risk.IdentityId);
            Add(upsert.Parameters, risk.AsOfMs);
            AddText(upsert.Parameters, risk.Json);
            rest.BatchCommands.Add(upsert);
        }

        for (var i = 0; i < commit.Findings.Count; i++)
        {
            AddFindingInsert(rest, commit.Findings[i], findingJson[i]);
        }

        foreach (var record in StoreRules.ResponseRecords(commit, lines))
        {
            AddRecordInsert(rest, record);
        }

        var cursor = new NpgsqlBatchCommand(UpsertCursorSql);
        AddText(cursor.Parameters, commit.Cursor);
        Add(cursor.Parameters, commit.Position);
        rest.BatchCommands.Add(cursor);
        await rest.ExecuteNonQueryAsync(ct);
        await transaction.CommitAsync(CancellationToken.None);
        return inserted;
    }

    /// <inheritdoc />
    public async Task<bool> UpdateActionAsync(ResponseAction updated, int expectedRevision, AuditEntry audit, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(updated);
        ArgumentNullException.ThrowIfNull(audit);
        var json = StoreJson.Serialize(updated);
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        await using var connection = await OpenAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        // Before the update: a transaction holding the append lock may insert this very action, so taking the row
        // first and the lock second could deadlock.
        await LockAppendsAsync(connection, transaction, ct);
        await using (var command = new NpgsqlCommand("""
            UPDATE response_actions SET state = $1, restore_pending = $2, next_attempt_at_ms = $3,
                expires_at_ms = $4, revision = $5, json = $6, token = $7
            WHERE id = $8 AND revision = $9;
            """, connection, transaction))
        {
            BindMutable(command.Parameters, updated, json);
            AddText(command.Parameters, updated.Id);
            Add(command.Parameters, expectedRevision);
            if (await command.ExecuteNonQueryAsync(ct) != 1)
            {
                return false;
            }
        }

        await using var appends = new NpgsqlBatch(connection, transaction);
        AddAuditAppend(appends, await AuditHeadAsync(connection, transaction, ct), now, audit, json);
        AddRecordInsert(appends, SiemRecord.From(updated, audit.Event, audit.Actor, audit.Detail, now));
        await appends.ExecuteNonQueryAsync(ct);
        await transaction.CommitAsync(CancellationToken.None);
        return true;
    }

    /// <inheritdoc />
    public async Task<ResponseAction?> GetActionAsync(string id, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(id);
        var found = await ReadActionsAsync(ActionColumns + "WHERE id = $1;", p => AddText(p, id), true, ct);
        return found.Count == 0 ? null : found[0];
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<ResponseAction>> QueryActionsAsync(ActionQuery query, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(query);
        StoreRules.CheckLimit(query.Limit, nameof(query));
        var sql = new StringBuilder(ActionColumns).Append("WHERE (created_at_ms > $1 OR (created_at_ms = $1 AND id > $2))");
        var next = 3;
        if (query.State is not null)
        {
            sql.Append(" AND state = $").Append(next++);
        }

        if (query.IdentityId is not null)
        {
            sql.Append(" AND identity_id = $").Append(next++);
        }

        sql.Append(" ORDER BY created_at_ms, id LIMIT $").Append(next).Append(';');
        return ReadActionsAsync(
            sql.ToString(),
            p =>
            {
                Add(p, query.AfterCreatedMs);
                AddText(p, query.AfterId ?? string.Empty);
                if (query.State is { } state)
                {
                    Add(p, (int)state);
                }

                if (query.IdentityId is { } identity)
                {
                    AddText(p, identity);
                }

                Add(p, query.Limit);
            },
            false,
            ct);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<ResponseAction>> DueActionsAsync(long nowMs, int limit, CancellationToken ct)
    {
        StoreRules.CheckLimit(limit, nameof(limit));
        return ReadActionsAsync(
            ActionColumns + """
                WHERE (state = $1 AND next_attempt_at_ms <= $3)
                   OR (state = $2 AND restore_pending AND next_attempt_at_ms <= $3)
                   OR (state = $2 AND NOT restore_pending AND expires_at_ms > 0 AND expires_at_ms <= $3)
                ORDER BY next_attempt_at_ms, id LIMIT $4;
                """,
            p =>
            {
                Add(p, (int)ResponseActionState.Queued);
                Add(p, (int)ResponseActionState.Done);
                Add(p, nowMs);
                Add(p, limit);
            },
            true,
            ct);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<ResponseAction>> ActionsOfIdentityAsync(string identityId, long sinceMs, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(identityId);
        return ReadActionsAsync(
            ActionColumns + "WHERE identity_id = $1 AND created_at_ms >= $2 ORDER BY created_at_ms, id;",
            p =>
            {
                AddText(p, identityId);
                Add(p, sinceMs);
            },
            false,
            ct);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<ResponseAction>> ActionsSinceAsync(long sinceMs, CancellationToken ct) =>
        ReadActionsAsync(
            ActionColumns + "WHERE created_at_ms >= $1 ORDER BY created_at_ms, id;",
            p => Add(p, sinceMs),
            false,
            ct);

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<ResponseActionState, long>> CountActionsAsync(CancellationToken ct)
    {
        await using var command = Command("SELECT state, COUNT(*) FROM response_actions GROUP BY state;");
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await StoreRules.ReadActionCountsAsync(reader, ct);
    }

    /// <inheritdoc />
    public async Task<RiskRecord?> LoadRiskAsync(string identityId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(identityId);
        await using var command = Command("SELECT as_of_ms, json FROM identity_risk WHERE identity_id = $1;");
        AddText(command.Parameters, identityId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? new RiskRecord(identityId, reader.GetInt64(0), ReadText(reader, 1)) : null;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<AuditRecord>> AuditAfterAsync(long afterSeq, int limit, CancellationToken ct)
    {
        StoreRules.CheckLimit(limit, nameof(limit));
        await using var command = Command("""
            SELECT seq, at_ms, action_id, event, actor, detail, json, prev_hash, hash FROM audit_log
            WHERE seq > $1 ORDER BY seq LIMIT $2;
            """);
        Add(command.Parameters, afterSeq);
        Add(command.Parameters, limit);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await StoreRules.ReadAllAsync(reader, static r => new AuditRecord(
                r.GetInt64(0), r.GetInt64(1), ReadText(r, 2), ReadText(r, 3), ReadText(r, 4),
                ReadText(r, 5), r.GetString(6), r.GetString(7), r.GetString(8)), ct);
    }

    private async Task<IReadOnlyList<ResponseAction>> ReadActionsAsync(
        string sql, Action<NpgsqlParameterCollection> bind, bool withToken, CancellationToken ct)
    {
        await using var command = Command(sql);
        bind(command.Parameters);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var items = new List<ResponseAction>();
        while (await reader.ReadAsync(ct))
        {
            var action = StoreJson.Action(reader.GetString(0));
            items.Add(withToken && !reader.IsDBNull(1) ? action with { Token = ReadText(reader, 1) } : action);
        }

        return items;
    }

    private static void AddActionInsert(NpgsqlBatch batch, ResponseAction action)
    {
        var command = new NpgsqlBatchCommand("""
            INSERT INTO response_actions (state, restore_pending, next_attempt_at_ms, expires_at_ms, revision, json, token,
                id, identity_id, connector, rule, created_at_ms)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
            ON CONFLICT (id) DO NOTHING;
            """);
        BindMutable(command.Parameters, action, StoreJson.Serialize(action));
        AddText(command.Parameters, action.Id);
        AddText(command.Parameters, action.IdentityId);
        AddText(command.Parameters, action.Connector);
        AddText(command.Parameters, action.Rule);
        Add(command.Parameters, action.CreatedAtMs);
        batch.BatchCommands.Add(command);
    }

    /// <summary>Binds $1..$7: state, restore_pending, next_attempt_at_ms, expires_at_ms, revision, json, token.</summary>
    private static void BindMutable(NpgsqlParameterCollection parameters, ResponseAction action, string json)
    {
        Add(parameters, (int)action.State);
        Add(parameters, action.RestorePending);
        Add(parameters, action.NextAttemptAtMs);
        Add(parameters, action.ExpiresAtMs);
        Add(parameters, action.Revision);
        AddJson(parameters, json);
        if (action.Token is { } token)
        {
            AddText(parameters, token);
        }
        else
        {
            parameters.Add(new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        }
    }

    /// <summary>The last line of the audit chain (0 and the genesis hash when empty); read under the append lock.</summary>
    private static async Task<(long Seq, string Hash)> AuditHeadAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1;", connection, transaction);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? (reader.GetInt64(0), reader.GetString(1)) : (0, AuditChain.Genesis);
    }

    /// <summary>Queues the audit line after <paramref name="head"/> and returns the new head.</summary>
    private static (long Seq, string Hash) AddAuditAppend(NpgsqlBatch batch, (long Seq, string Hash) head, long atMs, AuditEntry audit, string json)
    {
        var seq = head.Seq + 1;
        var hash = AuditChain.Hash(head.Hash, seq, atMs, audit.ActionId, audit.Event, audit.Actor, audit.Detail, json);
        var command = new NpgsqlBatchCommand("""
            INSERT INTO audit_log (seq, at_ms, action_id, event, actor, detail, json, prev_hash, hash)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9);
            """);
        Add(command.Parameters, seq);
        Add(command.Parameters, atMs);
        AddText(command.Parameters, audit.ActionId);
        AddText(command.Parameters, audit.Event);
        AddText(command.Parameters, audit.Actor);
        AddText(command.Parameters, audit.Detail);
        AddJson(command.Parameters, json);
        AddText(command.Parameters, head.Hash);
        AddText(command.Parameters, hash);
        batch.BatchCommands.Add(command);
        return (seq, hash);
    }
}
