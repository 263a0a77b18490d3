using System.Globalization;
using Npgsql;
using NpgsqlTypes;

namespace AnomalyZT.Silo.State.Postgres;

/// <summary>The ordered schema migrations of the PostgreSQL store and the code that applies them.</summary>
/// <remarks>
/// Append new steps at the end with the next version; never edit a step that has shipped. Tables live in the schema of
/// <see cref="PostgresStoreOptions.Schema"/> (the connection's search path). Text that is compared or sorted uses
/// <c>COLLATE "C"</c>, byte order like SQLite, whatever the database's default collation. The sequenced tables
/// (<c>findings.seq</c>, <c>siem_records.seq</c>, <c>dead_letters.id</c>, <c>audit_log.seq</c>) get their numbers
/// from the store under the append lock, not from a sequence, so they are gap-free and in commit order.
/// </remarks>
internal static class PostgresMigrations
{
    /// <summary>Every migration, in ascending version order.</summary>
    internal static readonly IReadOnlyList<PostgresMigration> All =
    [
        new(1, """
            CREATE TABLE grain_snapshots (
                kind          integer NOT NULL,
                id            text    COLLATE "C" NOT NULL,
                partition     integer NOT NULL,
                state_version integer NOT NULL,
                data          bytea   NOT NULL,
                updated_at_ms bigint  NOT NULL,
                PRIMARY KEY (kind, id)
            );
            CREATE INDEX ix_grain_snapshots_partition ON grain_snapshots (partition);

            CREATE TABLE findings (
                id              text    COLLATE "C" NOT NULL PRIMARY KEY,
                seq             bigint  NOT NULL UNIQUE,
                entity_kind     integer NOT NULL,
                entity_id       text    COLLATE "C" NOT NULL,
                detector        text    COLLATE "C" NOT NULL,
                feature         text    COLLATE "C" NOT NULL,
                bucket_start_ms bigint  NOT NULL,
                severity        integer NOT NULL,
                json            text    NOT NULL
            );
            CREATE INDEX ix_findings_bucket_id ON findings (bucket_start_ms, id);
            CREATE INDEX ix_findings_entity ON findings (entity_kind, entity_id, bucket_start_ms, id);
            CREATE INDEX ix_findings_detector ON findings (detector, bucket_start_ms, id);

            CREATE TABLE dead_letters (
                id             bigint  NOT NULL PRIMARY KEY,
                received_at_ms bigint  NOT NULL,
                source         text    NOT NULL,
                line_number    integer NOT NULL,
                reason         text    NOT NULL,
                payload        bytea   NOT NULL
            );

            CREATE TABLE response_actions (
                id                 text    COLLATE "C" NOT NULL PRIMARY KEY,
                identity_id        text    COLLATE "C" NOT NULL,
                connector          text    NOT NULL,
                rule               text    NOT NULL,
                state              integer NOT NULL,
                restore_pending    boolean NOT NULL,
                next_attempt_at_ms bigint  NOT NULL,
                expires_at_ms      bigint  NOT NULL,
                created_at_ms      bigint  NOT NULL,
                revision           integer NOT NULL,
                json               text    NOT NULL,
                token              text    NULL
            );
            CREATE INDEX ix_response_actions_state ON response_actions (state, next_attempt_at_ms);
            CREATE INDEX ix_response_actions_identity ON response_actions (identity_id, created_at_ms);
            CREATE INDEX ix_response_actions_created ON response_actions (created_at_ms, id);

            CREATE TABLE audit_log (
                seq       bigint NOT NULL PRIMARY KEY,
                at_ms     bigint NOT NULL,
                action_id text   NOT NULL,
                event     text   NOT NULL,
                actor     text   NOT NULL,
                detail    text   NOT NULL,
                json      text   NOT NULL,
                prev_hash text   NOT NULL,
                hash      text   NOT NULL
            );

            CREATE TABLE identity_risk (
                identity_id text   COLLATE "C" NOT NULL PRIMARY KEY,
                as_of_ms    bigint NOT NULL,
                json        text   NOT NULL
            );

            CREATE TABLE consumer_cursors (
                name     text   COLLATE "C" NOT NULL PRIMARY KEY,
                position bigint NOT NULL
            );

            CREATE TABLE siem_records (
                seq      bigint  NOT NULL PRIMARY KEY,
                id       text    COLLATE "C" NOT NULL UNIQUE,
                kind     integer NOT NULL,
                severity integer NOT NULL,
                at_ms    bigint  NOT NULL,
                json     text    NOT NULL
            );

            CREATE TABLE partition_leases (
                partition  integer     NOT NULL PRIMARY KEY,
                owner      text        COLLATE "C" NOT NULL,
                epoch      bigint      NOT NULL,
                expires_at timestamptz NOT NULL
            );

            CREATE TABLE partition_progress (
                partition          integer NOT NULL PRIMARY KEY,
                owner              text    COLLATE "C" NOT NULL,
                epoch              bigint  NOT NULL,
                applied_batch_ids  text[]  NOT NULL
            );

            CREATE TABLE silos (
                silo       text        COLLATE "C" NOT NULL PRIMARY KEY,
                expires_at timestamptz NOT NULL
            );
            """),
    ];

    /// <summary>The newest schema version this build knows.</summary>
    internal static int Latest => All[^1].Version;

    private const string CreateVersionTable = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version       integer NOT NULL PRIMARY KEY,
            applied_at_ms bigint  NOT NULL
        );
        """;

    /// <summary>Under a transaction-level advisory lock (so silos starting together migrate once, one after the
    /// other): creates the schema and the version table when missing, refuses a database newer than this build, and
    /// applies every pending migration with its version row, all in one transaction.</summary>
    internal static async Task ApplyAsync(NpgsqlConnection connection, string schema, long lockKey, TimeProvider time, CancellationToken ct)
    {
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock($1);", connection, transaction))
        {
            lockCommand.Parameters.Add(new NpgsqlParameter<long> { TypedValue = lockKey });
            await lockCommand.ExecuteNonQueryAsync(ct);
        }

        // The schema name was checked against ^[a-z_][a-z0-9_]{0,62}$, so quoting it is enough. SET LOCAL makes the
        // unqualified names of the steps land in it even though it did not exist when the connection opened.
        var prepare = $"CREATE SCHEMA IF NOT EXISTS \"{schema}\"; SET LOCAL search_path TO \"{schema}\"; {CreateVersionTable}";
        await using (var create = new NpgsqlCommand(prepare, connection, transaction))
        {
            await create.ExecuteNonQueryAsync(ct);
        }

        var current = await CurrentVersionAsync(connection, transaction, ct);
        ThrowIfNewer(current, schema);
        var at = time.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var migration in All)
        {
            if (migration.Version <= current)
            {
                continue;
            }

            await using (var step = new NpgsqlCommand(migration.Sql, connection, transaction))
            {
                await step.ExecuteNonQueryAsync(ct);
            }

            await using var record = new NpgsqlCommand("INSERT INTO schema_migrations (version, applied_at_ms) VALUES ($1, $2);", connection, transaction);
            record.Parameters.Add(new NpgsqlParameter<int> { TypedValue = migration.Version });
            record.Parameters.Add(new NpgsqlParameter<long> { TypedValue = at, NpgsqlDbType = NpgsqlDbType.Bigint });
            await record.ExecuteNonQueryAsync(ct);
        }

        await transaction.CommitAsync(ct);
    }

    /// <summary>Highest applied version, 0 when the version table is empty.</summary>
    internal static async Task<int> CurrentVersionAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("SELECT COALESCE(MAX(version), 0) FROM schema_migrations;", connection, transaction);
        return Convert.ToInt32(await command.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);
    }

    private static void ThrowIfNewer(int version, string schema)
    {
        if (version > Latest)
        {
            throw new InvalidOperationException(
                $"The state database (schema '{schema}') has schema version {version}, which is newer than this build of "
                + $"AnomalyZT knows (latest {Latest}). Run a newer build, or point {PostgresStoreOptions.SectionName}:"
                + $"{nameof(PostgresStoreOptions.Schema)} at another schema.");
        }
    }
}

/// <summary>One schema step: the version it brings the database to and the SQL that does it.</summary>
/// <param name="Version">Version after the step; versions increase by one from 1.</param>
/// <param name="Sql">Statements run in the migration transaction.</param>
internal sealed record PostgresMigration(int Version, string Sql);
