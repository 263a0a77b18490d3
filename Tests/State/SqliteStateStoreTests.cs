using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.State;
using AnomalyZT.Tests.Response.Contracts;
using Microsoft.Data.Sqlite;
using static AnomalyZT.Tests.State.StoreTestData;

namespace AnomalyZT.Tests.State;

/// <summary>What only the embedded SQLite store has — the database file, WAL mode, its migrations, file options and
/// registration — against a real file in a temp folder of its own per test. What every store does is in
/// <see cref="StoreContractTests"/>, which runs on SQLite too (<see cref="SqliteStoreContractTests"/>).</summary>
public sealed partial class SqliteStateStoreTests : IAsyncDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "anomalyzt-state-" + Guid.NewGuid().ToString("N"));
    private readonly List<SqliteStateStore> _stores = [];
    private readonly ManualTime _time = new(DateTimeOffset.FromUnixTimeMilliseconds(StartMs));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string DatabasePath => Path.Combine(_directory, "test.db");

    public async ValueTask DisposeAsync()
    {
        await DisposeAllAsync(_stores);
        DeleteDirectory(_directory);
    }

    [Fact]
    public async Task InitializeAsync_MissingDataDirectory_CreatesDirectoryAndSchema()
    {
        Assert.False(Directory.Exists(_directory));

        var store = await OpenAsync();

        Assert.True(File.Exists(DatabasePath));
        Assert.Equal(DatabasePath, store.DatabasePath);
        Assert.Equal(SqliteMigrations.Latest, await store.SchemaVersionAsync(Ct));
        await using var side = OpenSide();
        var tables = await StringsAsync(side, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name;");
        Assert.Equal(["audit_log", "consumer_cursors", "dead_letters", "findings", "grain_snapshots", "identity_risk", "response_actions", "schema_migrations", "siem_records"], tables);
        var indexes = await StringsAsync(side, "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'ix_%' ORDER BY name;");
        Assert.Equal(
            ["ix_findings_bucket_id", "ix_findings_detector", "ix_findings_entity", "ix_grain_snapshots_partition",
             "ix_response_actions_created", "ix_response_actions_identity", "ix_response_actions_state"],
            indexes);
        Assert.Equal(["wal"], await StringsAsync(side, "PRAGMA journal_mode;"));
    }

    [Fact]
    public async Task InitializeAsync_ExistingDatabase_AppliesNothingAgain()
    {
        var first = await OpenAsync();
        await first.InitializeAsync(Ct);
        await first.DisposeAsync();
        _time.Now = _time.Now.AddHours(5);

        var second = await OpenAsync();

        Assert.Equal(SqliteMigrations.Latest, await second.SchemaVersionAsync(Ct));
        await using var side = OpenSide();
        var applied = await StringsAsync(side, "SELECT version || '@' || applied_at_ms FROM schema_migrations ORDER BY version;");
        Assert.Equal(SqliteMigrations.All.Select(m => $"{m.Version}@{StartMs}"), applied);
    }

    [Fact]
    public async Task InitializeAsync_DatabaseNewerThanCode_ThrowsInvalidOperationException()
    {
        await (await OpenAsync()).DisposeAsync();
        var newer = SqliteMigrations.Latest + 1;
        await using (var side = OpenSide())
        {
            await ExecuteAsync(side, $"INSERT INTO schema_migrations (version, applied_at_ms) VALUES ({newer}, 0);");
        }

        var store = Create();
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => store.InitializeAsync(Ct));

        Assert.Contains($"schema version {newer}", error.Message, StringComparison.Ordinal);
        Assert.Contains("newer", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidOperationException>(() => store.CountDeadLettersAsync(Ct));
    }

    [Fact]
    public void Migrations_All_VersionsRiseByOneFromOne()
    {
        Assert.Equal(Enumerable.Range(1, SqliteMigrations.All.Count), SqliteMigrations.All.Select(m => m.Version));
    }

    [Theory]
    [InlineData("", "FileName")]
    [InlineData("sub/test.db", "FileName")]
    [InlineData("..", "FileName")]
    public void Constructor_BadFileName_ThrowsArgumentExceptionNamingKey(string fileName, string key)
    {
        var options = new SqliteStoreOptions { DataDirectory = _directory, FileName = fileName };

        var error = Assert.Throws<ArgumentException>(() => new SqliteStateStore(options, _time));

        Assert.Contains($"State:{key} is '{fileName}'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DisposeAsync_ThenReopen_DataSurvivesAndWalIsFolded()
    {
        var first = await OpenAsync();
        var finding = NewFinding(EntityKind.Node, "gpu-01", "robust-level", StartMs);
        await first.CommitAsync(
            Of([Snapshot("gpu-01", 4, [1, 2], kind: EntityKind.Node)], [finding], [Letter("http:envoy", [7])]),
            Ct);
        await first.QueryFindingsAsync(new FindingQuery(null, null, null, null, null, 10), Ct);
        await first.DisposeAsync();

        Assert.False(File.Exists(DatabasePath + "-wal"), "closing the last connection folds the WAL into the file");
        var second = await OpenAsync();
        Assert.Equal([1, 2], (await second.LoadSnapshotAsync(new EntityKey(EntityKind.Node, "gpu-01"), Ct))?.Data);
        Assert.Equal(finding, Assert.Single((await second.QueryFindingsAsync(new FindingQuery(null, null, null, null, null, 10), Ct)).Items));
        Assert.Equal([7], Assert.Single(await second.QueryDeadLettersAsync(0, 10, Ct)).Payload);
    }

    private SqliteStateStore Create()
    {
        var store = new SqliteStateStore(new SqliteStoreOptions { DataDirectory = _directory, FileName = "test.db" }, _time);
        _stores.Add(store);
        return store;
    }

    private async Task<SqliteStateStore> OpenAsync()
    {
        var store = Create();
        await store.InitializeAsync(Ct);
        return store;
    }

    /// <summary>A connection of the test's own, outside the store, to look at or tamper with the file.</summary>
    private SqliteConnection OpenSide()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    private static async Task ExecuteAsync(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(Ct);
    }

    private static async Task<List<string>> StringsAsync(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync(Ct);
        var values = new List<string>();
        while (await reader.ReadAsync(Ct))
        {
            values.Add(Convert.ToString(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture)!);
        }

        return values;
    }
}
