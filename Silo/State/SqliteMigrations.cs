using Microsoft.Data.Sqlite;

namespace AnomalyZT.Silo.State;

/// <summary>The ordered schema migrations of the SQLite store and the code that applies them.</summary>
/// <remarks>Append new steps at the end with the next version; never edit a step that has shipped.</remarks>
internal static class SqliteMigrations
{
    /// <summary>Every migration, in ascending version order.</summary>
    internal static readonly IReadOnlyList<SqliteMigration> All =
    [
        new(1, """
            CREATE TABLE grain_snapshots (
                kind          INTEGER NOT NULL,
                id            TEXT    NOT NULL,
                partition     INTEGER NOT NULL,
                state_version INTEGER NOT NULL,
                data          BLOB    NOT NULL,
                updated_at_ms INTEGER NOT NULL,
                PRIMARY KEY (kind, id)
            );
            CREATE INDEX ix_grain_snapshots_partition ON grain_snapshots (partition);

            CREATE TABLE findings (
                id              TEXT    NOT NULL PRIMARY KEY,
                entity_kind     INTEGER NOT NULL,
                entity_id       TEXT    NOT NULL,
                detector        TEXT    NOT NULL,
                feature         TEXT    NOT NULL,
                bucket_start_ms INTEGER NOT NULL,
                severity        INTEGER NOT NULL,
                json            TEXT    NOT NULL
            );
            CREATE INDEX ix_findings_bucket_id ON findings (bucket_start_ms, id);
            CREATE INDEX ix_findings_entity ON findings (entity_kind, entity_id, bucket_start_ms, id);
            CREATE INDEX ix_findings_detector ON findings (detector, bucket_start_ms, id);

            CREATE TABLE dead_letters (
                id             INTEGER PRIMARY KEY AUTOINCREMENT,
                received_at_ms INTEGER NOT NULL,
                source         TEXT    NOT NULL,
                line_number    INTEGER NOT NULL,
                reason         TEXT    NOT NULL,
                payload        BLOB    NOT NULL
            );
            """),
        new(2, """
            CREATE TABLE response_actions (
                id                 TEXT    NOT NULL PRIMARY KEY,
                identity_id        TEXT    NOT NULL,
                connector          TEXT    NOT NULL,
                rule               TEXT    NOT NULL,
                state              INTEGER NOT NULL,
                restore_pending    INTEGER NOT NULL,
                next_attempt_at_ms INTEGER NOT NULL,
                expires_at_ms      INTEGER NOT NULL,
                created_at_ms      INTEGER NOT NULL,
                revision           INTEGER NOT NULL,
                json               TEXT    NOT NULL,
                token              TEXT    NULL
            );
            CREATE INDEX ix_response_actions_state ON response_actions (state, next_attempt_at_ms);
            CREATE INDEX ix_response_actions_identity ON response_actions (identity_id, created_at_ms);
            CREATE INDEX ix_response_actions_created ON response_actions (created_at_ms, id);

            CREATE TABLE audit_log (
                seq       INTEGER PRIMARY KEY AUTOINCREMENT,
                at_ms     INTEGER NOT NULL,
                action_id TEXT    NOT NULL,
                event     TEXT    NOT NULL,
                actor     TEXT    NOT NULL,
                detail    TEXT    NOT NULL,
                json      TEXT    NOT NULL,
                prev_hash TEXT    NOT NULL,
                hash      TEXT    NOT NULL
            );

            CREATE TABLE identity_risk (
                identity_id TEXT    NOT NULL PRIMARY KEY,
                as_of_ms    INTEGER NOT NULL,
                json        TEXT    NOT NULL
            );

            CREATE TABLE consumer_cursors (
                name     TEXT    NOT NULL PRIMARY KEY,
                position INTEGER NOT NULL
            );
            """),
        new(3, """
            CREATE TABLE siem_records (
                seq      INTEGER PRIMARY KEY AUTOINCREMENT,
                id       TEXT    NOT NULL UNIQUE,
                kind     INTEGER NOT NULL,
                severity INTEGER NOT NULL,
                at_ms    INTEGER NOT NULL,
                json     TEXT    NOT NULL
            );
            """),
    ];

    /// <summary>The newest schema version this build knows.</summary>
    internal static int Latest => All[^1].Version;

    private const string CreateVersionTable = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version       INTEGER NOT NULL PRIMARY KEY,
            applied_at_ms INTEGER NOT NULL
        );
        """;

    /// <summary>Creates the version table when missing, refuses a database newer than this build, and applies
    /// each pending migration in its own transaction together with its version row.</summary>
    internal static async Task ApplyAsync(SqliteConnection connection, TimeProvider time, CancellationToken ct)
    {
        using (var create = connection.CreateCommand())
        {
            create.CommandText = CreateVersionTable;
            await create.ExecuteNonQueryAsync(ct);
        }

        var current = await CurrentVersionAsync(connection, null, ct);
        ThrowIfNewer(current);
        foreach (var migration in All)
        {
            if (migration.Version <= current)
            {
                continue;
            }

            // BEGIN IMMEDIATE takes the write lock first, so a second process opening the same file waits here
            // and then sees the version row instead of applying the step twice.
            using var transaction = connection.BeginTransaction(deferred: false);
            var inside = await CurrentVersionAsync(connection, transaction, ct);
            ThrowIfNewer(inside);
            if (migration.Version <= inside)
            {
                continue;
            }

            using (var step = connection.CreateCommand())
            {
                step.Transaction = transaction;
                step.CommandText = migration.Sql;
                await step.ExecuteNonQueryAsync(ct);
            }

            using (var record = connection.CreateCommand())
            {
                record.Transaction = transaction;
                record.CommandText = "INSERT INTO schema_migrations (version, applied_at_ms) VALUES ($version, $at);";
                record.Parameters.Add("$version", SqliteType.Integer).Value = migration.Version;
                record.Parameters.Add("$at", SqliteType.Integer).Value = time.GetUtcNow().ToUnixTimeMilliseconds();
                await record.ExecuteNonQueryAsync(ct);
            }

            transaction.Commit();
        }
    }

    /// <summary>Highest applied version, 0 for an empty database.</summary>
    internal static async Task<int> CurrentVersionAsync(SqliteConnection connection, SqliteTransaction? transaction, CancellationToken ct)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations;";
        var value = await command.ExecuteScalarAsync(ct);
        return Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static void ThrowIfNewer(int version)
    {
        if (version > Latest)
        {
            throw new InvalidOperationException(
                $"The state database has schema version {version}, which is newer than this build of AnomalyZT "
                + $"knows (latest {Latest}). Run a newer build, or point {SqliteStoreOptions.SectionName}:"
                + $"{nameof(SqliteStoreOptions.DataDirectory)} at another folder.");
        }
    }
}

/// <summary>One schema step: the version it brings the database to and the SQL that does it.</summary>
/// <param name="Version">Version after the step; versions increase by one from 1.</param>
/// <param name="Sql">Statements run in one transaction.</param>
internal sealed record SqliteMigration(int Version, string Sql);
