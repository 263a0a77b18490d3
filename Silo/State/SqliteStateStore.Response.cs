using AnomalyZT.Grains.Interfaces;
using Microsoft.Data.Sqlite;

namespace AnomalyZT.Silo.State;

/// <summary>The response side: outbox, audit chain, risk and consumer cursors.</summary>
public sealed partial class SqliteStateStore : IResponseStore
{
    private const string ActionColumns = "SELECT json, token FROM response_actions ";

    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredFinding>> FindingsAfterAsync(long afterSeq, int limit, CancellationToken ct)
    {
        StoreRules.CheckLimit(limit, nameof(limit));
        await using var connection = await OpenReaderAsync(ct);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT json, rowid FROM findings WHERE rowid > $after ORDER BY rowid LIMIT $limit;";
        command.Parameters.Add("$after", SqliteType.Integer).Value = afterSeq;
        command.Parameters.Add("$limit", SqliteType.Integer).Value = limit;
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await StoreRules.ReadAllAsync(reader, static r => new StoredFinding(r.GetInt64(1), ReadFinding(r)), ct);
    }

    /// <inheritdoc />
    public async Task<long> CursorAsync(string name, CancellationToken ct)
    {
        await using var connection = await OpenReaderAsync(ct);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT position FROM consumer_cursors WHERE name = $name;";
        command.Parameters.Add("$name", SqliteType.Text).Value = name;
        return await command.ExecuteScalarAsync(ct) is long position ? position : 0;
    }

    /// <inheritdoc />
    public async Task SetCursorAsync(string name, long position, CancellationToken ct)
    {
        await _writeLock.WaitAsync(ct);
        try
        {
            var writer = Writer();
            using var transaction = writer.BeginTransaction(deferred: false);
            await SetCursorAsync(writer, transaction, name, position, ct);
            transaction.Commit();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> CommitResponseAsync(ResponseCommit commit, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(commit);
        var findingJson = StoreJson.Serialize(commit.Findings);
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        await _writeLock.WaitAsync(ct);
        try
        {
            var writer = Writer();
            using var transaction = writer.BeginTransaction(deferred: false);
            var inserted = new List<string>();
            foreach (var action in commit.Actions)
            {
                if (await InsertActionAsync(writer, transaction, action, ct))
                {
                    inserted.Add(action.Id);
                }
            }

            var lines = StoreRules.AuditLines(commit, inserted, now);
            foreach (var (audit, json, _) in lines)
            {
                await AppendAuditAsync(writer, transaction, now, audit, json, ct);
            }

            foreach (var risk in commit.Risks)
            {
                using var upsert = writer.CreateCommand();
                upsert.Transaction = transaction;
                upsert.CommandText = """
                    INSERT INTO identity_risk (identity_id, as_of_ms, json) VALUES ($id, $as_of, $json)
                    ON CONFLICT (identity_id) DO UPDATE SET as_of_ms = excluded.as_of_ms, json = excluded.json;
                    """;
                upsert.Parameters.Add("$id", SqliteType.Text).Value = risk.IdentityId;
                upsert.Parameters.Add("$as_of", SqliteType.Integer).Value = risk.AsOfMs;
                upsert.Parameters.Add("$json", SqliteType.Text).Value = risk.Json;
                await upsert.ExecuteNonQueryAsync(ct);
            }

            await InsertFindingsAsync(writer, transaction, commit.Findings, findingJson, ct);
            await AppendRecordsAsync(writer, transaction, StoreRules.ResponseRecords(commit, lines), ct);
            await SetCursorAsync(writer, transaction, commit.Cursor, commit.Position, ct);
            transaction.Commit();
            return inserted;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <inheritdoc />
    public async Task<bool> UpdateActionAsync(ResponseAction updated, int expectedRevision, AuditEntry audit, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(updated);
        ArgumentNullException.ThrowIfNull(audit);
        var json = StoreJson.Serialize(updated);
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        await _writeLock.WaitAsync(ct);
        try
        {
            var writer = Writer();
            using var transaction = writer.BeginTransaction(deferred: false);
            using (var command = writer.CreateCommand())
            {
                command.Transaction = transaction;
                command.CommandText = """
                    UPDATE response_actions SET state = $state, restore_pending = $restore, next_attempt_at_ms = $next,
                        expires_at_ms = $expires, revision = $revision, json = $json, token = $token
                    WHERE id = $id AND revision = $expected;
                    """;
                BindMutable(command, updated, json);
                command.Parameters.Add("$id", SqliteType.Text).Value = updated.Id;
                command.Parameters.Add("$expected", SqliteType.Integer).Value = expectedRevision;
                if (await command.ExecuteNonQueryAsync(ct) != 1)
                {
                    return false;
                }
            }

            await AppendAuditAsync(writer, transaction, now, audit, json, ct);
            await AppendRecordsAsync(writer, transaction, [Siem.SiemRecord.From(updated, audit.Event, audit.Actor, audit.Detail, now)], ct);
            transaction.Commit();
            return true;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <inheritdoc />
    public async Task<ResponseAction?> GetActionAsync(string id, CancellationToken ct)
    {
        var found = await ReadActionsAsync(ActionColumns + "WHERE id = $id;", c => c.Parameters.Add("$id", SqliteType.Text).Value = id, true, ct);
        return found.Count == 0 ? null : found[0];
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<ResponseAction>> QueryActionsAsync(ActionQuery query, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(query);
        StoreRules.CheckLimit(query.Limit, nameof(query));
        return ReadActionsAsync(
            ActionColumns + """
                WHERE ($state IS NULL OR state = $state) AND ($identity IS NULL OR identity_id = $identity)
                  AND (created_at_ms > $after OR (created_at_ms = $after AND id > $after_id))
                ORDER BY created_at_ms, id LIMIT $limit;
                """,
            c =>
            {
                c.Parameters.Add("$state", SqliteType.Integer).Value = query.State is { } s ? (int)s : DBNull.Value;
                c.Parameters.Add("$identity", SqliteType.Text).Value = (object?)query.IdentityId ?? DBNull.Value;
                c.Parameters.Add("$after", SqliteType.Integer).Value = query.AfterCreatedMs;
                c.Parameters.Add("$after_id", SqliteType.Text).Value = query.AfterId;
                c.Parameters.Add("$limit", SqliteType.Integer).Value = query.Limit;
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
                WHERE (state = $queued AND next_attempt_at_ms <= $now)
                   OR (state = $done AND restore_pending = 1 AND next_attempt_at_ms <= $now)
                   OR (state = $done AND restore_pending = 0 AND expires_at_ms > 0 AND expires_at_ms <= $now)
                ORDER BY next_attempt_at_ms, id LIMIT $limit;
                """,
            c =>
            {
                c.Parameters.Add("$queued", SqliteType.Integer).Value = (int)ResponseActionState.Queued;
                c.Parameters.Add("$done", SqliteType.Integer).Value = (int)ResponseActionState.Done;
                c.Parameters.Add("$now", SqliteType.Integer).Value = nowMs;
                c.Parameters.Add("$limit", SqliteType.Integer).Value = limit;
            },
            true,
            ct);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<ResponseAction>> ActionsOfIdentityAsync(string identityId, long sinceMs, CancellationToken ct) =>
        ReadActionsAsync(
            ActionColumns + "WHERE identity_id = $identity AND created_at_ms >= $since ORDER BY created_at_ms, id;",
            c =>
            {
                c.Parameters.Add("$identity", SqliteType.Text).Value = identityId;
                c.Parameters.Add("$since", SqliteType.Integer).Value = sinceMs;
            },
            false,
            ct);

    /// <inheritdoc />
    public Task<IReadOnlyList<ResponseAction>> ActionsSinceAsync(long sinceMs, CancellationToken ct) =>
        ReadActionsAsync(
            ActionColumns + "WHERE created_at_ms >= $since ORDER BY created_at_ms, id;",
            c => c.Parameters.Add("$since", SqliteType.Integer).Value = sinceMs,
            false,
            ct);

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<ResponseActionState, long>> CountActionsAsync(CancellationToken ct)
    {
        await using var connection = await OpenReaderAsync(ct);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT state, COUNT(*) FROM response_actions GROUP BY state;";
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await StoreRules.ReadActionCountsAsync(reader, ct);
    }

    /// <inheritdoc />
    public async Task<RiskRecord?> LoadRiskAsync(string identityId, CancellationToken ct)
    {
        await using var connection = await OpenReaderAsync(ct);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT as_of_ms, json FROM identity_risk WHERE identity_id = $id;";
        command.Parameters.Add("$id", SqliteType.Text).Value = identityId;
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? new RiskRecord(identityId, reader.GetInt64(0), reader.GetString(1)) : null;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<AuditRecord>> AuditAfterAsync(long afterSeq, int limit, CancellationToken ct)
    {
        StoreRules.CheckLimit(limit, nameof(limit));
        await using var connection = await OpenReaderAsync(ct);
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT seq, at_ms, action_id, event, actor, detail, json, prev_hash, hash FROM audit_log
            WHERE seq > $after ORDER BY seq LIMIT $limit;
            """;
        command.Parameters.Add("$after", SqliteType.Integer).Value = afterSeq;
        command.Parameters.Add("$limit", SqliteType.Integer).Value = limit;
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await StoreRules.ReadAllAsync(reader, static r => new AuditRecord(
                r.GetInt64(0), r.GetInt64(1), r.GetString(2), r.GetString(3), r.GetString(4),
                r.GetString(5), r.GetString(6), r.GetString(7), r.GetString(8)), ct);
    }

    private async Task<IReadOnlyList<ResponseAction>> ReadActionsAsync(string sql, Action<SqliteCommand> bind, bool withToken, CancellationToken ct)
    {
        await using var connection = await OpenReaderAsync(ct);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        bind(command);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var items = new List<ResponseAction>();
        while (await reader.ReadAsync(ct))
        {
            var action = StoreJson.Action(reader.GetString(0));
            items.Add(withToken && !reader.IsDBNull(1) ? action with { Token = reader.GetString(1) } : action);
        }

        return items;
    }

    private static async Task<bool> InsertActionAsync(SqliteConnection writer, SqliteTransaction transaction, ResponseAction action, CancellationToken ct)
    {
        using var command = writer.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO response_actions (id, identity_id, connector, rule, state, restore_pending, next_attempt_at_ms,
                expires_at_ms, created_at_ms, revision, json, token)
            VALUES ($id, $identity, $connector, $rule, $state, $restore, $next, $expires, $created, $revision, $json, $token)
            ON CONFLICT (id) DO NOTHING;
            """;
        BindMutable(command, action, StoreJson.Serialize(action));
        command.Parameters.Add("$id", SqliteType.Text).Value = action.Id;
        command.Parameters.Add("$identity", SqliteType.Text).Value = action.IdentityId;
        command.Parameters.Add("$connector", SqliteType.Text).Value = action.Connector;
        command.Parameters.Add("$rule", SqliteType.Text).Value = action.Rule;
        command.Parameters.Add("$created", SqliteType.Integer).Value = action.CreatedAtMs;
        return await command.ExecuteNonQueryAsync(ct) == 1;
    }

    private static void BindMutable(SqliteCommand command, ResponseAction action, string json)
    {
        command.Parameters.Add("$state", SqliteType.Integer).Value = (int)action.State;
        command.Parameters.Add("$restore", SqliteType.Integer).Value = action.RestorePending ? 1 : 0;
        command.Parameters.Add("$next", SqliteType.Integer).Value = action.NextAttemptAtMs;
        command.Parameters.Add("$expires", SqliteType.Integer).Value = action.ExpiresAtMs;
        command.Parameters.Add("$revision", SqliteType.Integer).Value = action.Revision;
        command.Parameters.Add("$json", SqliteType.Text).Value = json;
        command.Parameters.Add("$token", SqliteType.Text).Value = (object?)action.Token ?? DBNull.Value;
    }

    private static async Task AppendAuditAsync(
        SqliteConnection writer, SqliteTransaction transaction, long atMs, AuditEntry audit, string json, CancellationToken ct)
    {
        long seq = 1;
        var prev = AuditChain.Genesis;
        using (var last = writer.CreateCommand())
        {
            last.Transaction = transaction;
            last.CommandText = "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1;";
            await using var reader = await last.ExecuteReaderAsync(ct);
            if (await reader.ReadAsync(ct))
            {
                seq = reader.GetInt64(0) + 1;
                prev = reader.GetString(1);
            }
        }

        using var insert = writer.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = """
            INSERT INTO audit_log (seq, at_ms, action_id, event, actor, detail, json, prev_hash, hash)
            VALUES ($seq, $at, $action, $event, $actor, $detail, $json, $prev, $hash);
            """;
        insert.Parameters.Add("$seq", SqliteType.Integer).Value = seq;
        insert.Parameters.Add("$at", SqliteType.Integer).Value = atMs;
        insert.Parameters.Add("$action", SqliteType.Text).Value = audit.ActionId;
        insert.Parameters.Add("$event", SqliteType.Text).Value = audit.Event;
        insert.Parameters.Add("$actor", SqliteType.Text).Value = audit.Actor;
        insert.Parameters.Add("$detail", SqliteType.Text).Value = audit.Detail;
        insert.Parameters.Add("$json", SqliteType.Text).Value = json;
        insert.Parameters.Add("$prev", SqliteType.Text).Value = prev;
        insert.Parameters.Add("$hash", SqliteType.Text).Value =
            AuditChain.Hash(prev, seq, atMs, audit.ActionId, audit.Event, audit.Actor, audit.Detail, json);
        await insert.ExecuteNonQueryAsync(ct);
    }

    private static async Task SetCursorAsync(SqliteConnection writer, SqliteTransaction transaction, string name, long position, CancellationToken ct)
    {
        using var command = writer.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO consumer_cursors (name, position) VALUES ($name, $position)
            ON CONFLICT (name) DO UPDATE SET position = excluded.position;
            """;
        command.Parameters.Add("$name", SqliteType.Text).Value = name;
        command.Parameters.Add("$position", SqliteType.Integer).Value = position;
        await command.ExecuteNonQueryAsync(ct);
    }
}
