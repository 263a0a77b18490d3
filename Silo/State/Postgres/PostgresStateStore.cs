using System.Globalization;
using AnomalyZT.Grains.Interfaces;
using Npgsql;
using NpgsqlTypes;

namespace AnomalyZT.Silo.State.Postgres;

/// <summary>The cluster state store: tables in one PostgreSQL schema shared by every silo, with the semantics of
/// <see cref="SqliteStateStore"/> (same ordering, cursors, idempotent inserts, compare-and-set, audit hashes, limits
/// and messages).</summary>
/// <remarks>
/// <para><b>Commit order.</b> Several silos append to the sequenced tables at once: findings (<c>seq</c>, followed by
/// the responder and <c>/v1/findings</c>), the SIEM record stream (<c>seq</c>), dead letters (<c>id</c>) and the audit
/// log (<c>seq</c>, hash-chained). A transaction that appends to any of them first takes one transaction-level
/// advisory lock (<c>pg_advisory_xact_lock</c>, key derived from the schema name), then numbers its rows
/// <c>MAX + 1</c>, and holds the lock until it commits or rolls back; PostgreSQL releases transaction locks only
/// after the commit is visible. So appends are serialised across the cluster, numbers are gap-free and rise in commit
/// order, and a reader that has seen position <c>n</c> can never later find a committed row below <c>n</c>: every
/// row not yet visible to it belongs to the lock holder or a later one and gets a higher number. The audit chain's head
/// is read under the same lock, so lines are chained without forks. Snapshot upserts run before the lock is taken,
/// so only the short append part of a checkpoint is serialised, and a transaction holding the lock never waits for a
/// lock that a transaction waiting for it holds (no deadlock).</para>
/// <para><b>Fencing.</b> A checkpoint that carries <see cref="Checkpoint.Progress"/> first share-locks its partition's
/// lease row and is refused (<see cref="LeaseLostException"/>) unless its owner and epoch are the lease's; the
/// progress is stored in the same transaction.</para>
/// <para><b>Everything else</b> — snapshots, risk, cursors, leases, heartbeats — is plain row-level upserts. Reads are single
/// statements on pooled connections (READ COMMITTED).</para>
/// </remarks>
public sealed partial class PostgresStateStore : IStateStore, IResponseStore, IRecordStore, IClusterStore
{
    private readonly TimeProvider _time;
    private readonly NpgsqlDataSource _dataSource;
    private readonly long _appendLockKey;
    private readonly long _migrationLockKey;
    private readonly SemaphoreSlim _initLock = new(1, 1);
    private volatile bool _initialized;
    private volatile bool _disposed;

    /// <summary>Creates a store for the database and schema <paramref name="options"/> name. Nothing is opened until
    /// <see cref="InitializeAsync"/>.</summary>
    /// <exception cref="ArgumentException">The options are not usable; the message names the key.</exception>
    public PostgresStateStore(PostgresStoreOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        var failure = PostgresStoreOptionsValidator.TryBuild(options, out var builder);
        if (failure is not null || builder is null)
        {
            throw new ArgumentException(failure, nameof(options));
        }

        _time = time;
        Schema = options.Schema;
        Description = PostgresStoreOptionsValidator.Describe(builder, Schema);
        _appendLockKey = LockKey("append");
        _migrationLockKey = LockKey("migrate");
        _dataSource = new NpgsqlDataSourceBuilder(builder.ConnectionString).Build();
    }

    /// <summary>The schema holding the tables.</summary>
    public string Schema { get; }

    /// <summary>Server, database, user and schema, for logs; never the password.</summary>
    public string Description { get; }

    /// <inheritdoc />
    /// <remarks>Several silos may call this at once: migrations run under an advisory lock, so they apply once.</remarks>
    /// <exception cref="InvalidOperationException">The server cannot be reached or refused the user (the message says
    /// where, never the password), or the schema is newer than this build.</exception>
    public async Task InitializeAsync(CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _initLock.WaitAsync(ct);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_initialized)
            {
                return;
            }

            try
            {
                await using var connection = await _dataSource.OpenConnectionAsync(ct);
                await PostgresMigrations.ApplyAsync(connection, Schema, _migrationLockKey, _time, ct);
            }
            catch (NpgsqlException ex) when (!ct.IsCancellationRequested)
            {
                throw new InvalidOperationException(
                    $"Could not open the state store on {Description}: {ex.Message} "
                    + $"Check {PostgresStoreOptions.SectionName}:{nameof(PostgresStoreOptions.ConnectionString)}.",
                    ex);
            }

            _initialized = true;
        }
        finally
        {
            _initLock.Release();
        }
    }

    /// <inheritdoc />
    public async Task<int> SchemaVersionAsync(CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        return await PostgresMigrations.CurrentVersionAsync(connection, null, ct);
    }

    /// <summary>Closes the pooled connections. Calls in flight may fail; later calls throw
    /// <see cref="ObjectDisposedException"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        await _initLock.WaitAsync();
        try
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            await _dataSource.DisposeAsync();
        }
        finally
        {
            _initLock.Release();
        }
    }

    /// <summary>An open pooled connection; the caller disposes it.</summary>
    private async Task<NpgsqlConnection> OpenAsync(CancellationToken ct)
    {
        ThrowIfNotOpen();
        return await _dataSource.OpenConnectionAsync(ct);
    }

    /// <summary>A command that opens a pooled connection for its one execution.</summary>
    private NpgsqlCommand Command(string sql)
    {
        ThrowIfNotOpen();
        return _dataSource.CreateCommand(sql);
    }

    private void ThrowIfNotOpen()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_initialized)
        {
            throw StoreRules.NotInitialized();
        }
    }

    /// <summary>Takes the append lock for the rest of <paramref name="transaction"/> (see the remarks of the class).
    /// Call it before the transaction's first write to a shared table other than <c>grain_snapshots</c>.</summary>
    private async Task LockAppendsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("SELECT pg_advisory_xact_lock($1);", connection, transaction);
        Add(command.Parameters, _appendLockKey);
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>A 64-bit advisory lock key for <paramref name="purpose"/> in this schema, the same in every process.</summary>
    private long LockKey(string purpose) =>
        unchecked((long)StableHashing.Fnv1a64("anomalyzt/" + Schema + "/" + purpose));

    private static void Add<T>(NpgsqlParameterCollection parameters, T value) =>
        parameters.Add(new NpgsqlParameter<T> { TypedValue = value });

    /// <summary>Adds text for a <c>text</c> column (see <see cref="PgText"/>).</summary>
    private static void AddText(NpgsqlParameterCollection parameters, string value) =>
        parameters.Add(new NpgsqlParameter<string> { TypedValue = PgText.Encode(value), NpgsqlDbType = NpgsqlDbType.Text });

    /// <summary>Adds JSON for a <c>text</c> column: the serializer already escaped every control character.</summary>
    private static void AddJson(NpgsqlParameterCollection parameters, string json) =>
        parameters.Add(new NpgsqlParameter<string> { TypedValue = json, NpgsqlDbType = NpgsqlDbType.Text });

    private static string ReadText(NpgsqlDataReader reader, int ordinal) => PgText.Decode(reader.GetString(ordinal));

    private static EntityKind ReadKind(NpgsqlDataReader reader, int ordinal) => (EntityKind)reader.GetInt32(ordinal);

    private static long ToLong(object? value) => Convert.ToInt64(value, CultureInfo.InvariantCulture);
}
