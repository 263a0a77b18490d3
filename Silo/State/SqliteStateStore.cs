using System.Globalization;
using AnomalyZT.Grains.Interfaces;
using Microsoft.Data.Sqlite;

namespace AnomalyZT.Silo.State;

/// <summary>The embedded state store: one SQLite file in WAL mode. One writer connection, guarded by a
/// semaphore because SQLite has a single writer; reads use short-lived pooled read-only connections, so
/// they never wait for a commit.</summary>
public sealed partial class SqliteStateStore : IStateStore
{
    /// <summary>How long a connection waits for a lock held by another connection before failing.</summary>
    private const int BusyTimeoutMs = 5_000;

    private readonly TimeProvider _time;
    private readonly string _directory;
    private readonly string _writeConnectionString;
    private readonly string _readConnectionString;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private volatile SqliteConnection? _writer;
    private volatile bool _disposed;

    /// <summary>Creates a store for the database that <paramref name="options"/> names. Nothing is opened
    /// until <see cref="InitializeAsync"/>.</summary>
    /// <exception cref="ArgumentException">The options name no usable file.</exception>
    public SqliteStateStore(SqliteStoreOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        var failure = SqliteStoreOptionsValidator.Check(options);
        if (failure is not null)
        {
            throw new ArgumentException(failure, nameof(options));
        }

        _time = time;
        _directory = Path.GetFullPath(options.DataDirectory);
        DatabasePath = Path.Combine(_directory, options.FileName);
        _writeConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = DatabasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            // The writer lives as long as the store; keeping it out of the pool means disposing the store
            // really closes it, which lets SQLite checkpoint and remove the WAL file.
            Pooling = false,
            ForeignKeys = true,
        }.ToString();
        _readConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = DatabasePath,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = true,
        }.ToString();
    }

    /// <summary>Full path of the database file.</summary>
    public string DatabasePath { get; }

    /// <inheritdoc />
    public async Task InitializeAsync(CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _writeLock.WaitAsync(ct);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_writer is not null)
            {
                return;
            }

            Directory.CreateDirectory(_directory);
            var writer = new SqliteConnection(_writeConnectionString);
            try
            {
                await writer.OpenAsync(ct);
                await ConfigureWriterAsync(writer, ct);
                await SqliteMigrations.ApplyAsync(writer, _time, ct);
            }
            catch
            {
                await writer.DisposeAsync();
                throw;
            }

            _writer = writer;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <inheritdoc />
    public async Task<int> SchemaVersionAsync(CancellationToken ct)
    {
        await using var connection = await OpenReaderAsync(ct);
        return await SqliteMigrations.CurrentVersionAsync(connection, null, ct);
    }

    /// <summary>Waits for an in-flight commit, then closes the writer and the idle read connections.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        await _writeLock.WaitAsync();
        try
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            using (var probe = new SqliteConnection(_readConnectionString))
            {
                SqliteConnection.ClearPool(probe);
            }

            if (_writer is { } writer)
            {
                _writer = null;
                await writer.DisposeAsync();
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private static async Task ConfigureWriterAsync(SqliteConnection writer, CancellationToken ct)
    {
        using (var wal = writer.CreateCommand())
        {
            wal.CommandText = "PRAGMA journal_mode = WAL;";
            var mode = Convert.ToString(await wal.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);
            if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException(
                    $"SQLite refused WAL mode for '{writer.DataSource}' (journal mode is '{mode}'); "
                    + $"{SqliteStoreOptions.SectionName}:{nameof(SqliteStoreOptions.DataDirectory)} must be on a local file system.");
            }
        }

        using var pragmas = writer.CreateCommand();
        pragmas.CommandText = FormattableString.Invariant(
            $"PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = {BusyTimeoutMs}; PRAGMA foreign_keys = ON;");
        await pragmas.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The writer connection; call only while holding <see cref="_writeLock"/>.</summary>
    private SqliteConnection Writer()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _writer ?? throw StoreRules.NotInitialized();
    }

    private async Task<SqliteConnection> OpenReaderAsync(CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_writer is null)
        {
            throw StoreRules.NotInitialized();
        }

        var connection = new SqliteConnection(_readConnectionString);
        try
        {
            await connection.OpenAsync(ct);
            using var pragma = connection.CreateCommand();
            pragma.CommandText = FormattableString.Invariant($"PRAGMA busy_timeout = {BusyTimeoutMs};");
            await pragma.ExecuteNonQueryAsync(ct);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static EntityKind ReadKind(SqliteDataReader reader, int ordinal) => (EntityKind)reader.GetInt32(ordinal);
}
