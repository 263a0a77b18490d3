using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.State;
using AnomalyZT.Silo.State.Postgres;
using AnomalyZT.Tests.Response;
using AnomalyZT.Tests.Response.Contracts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using static AnomalyZT.Tests.State.StoreTestData;

namespace AnomalyZT.Tests.State;

/// <summary>What only the PostgreSQL store has: migrations shared by several silos, options and secrets, failures of the
/// server, and (in the other part) concurrency across store instances and partition leases.</summary>
[Collection(PostgresCollection.Name)]
public sealed partial class PostgresStateStoreTests(PostgresFixture pg) : IAsyncDisposable
{
    private readonly List<PostgresStateStore> _stores = [];
    private readonly ManualTime _time = new(DateTimeOffset.FromUnixTimeMilliseconds(StartMs));
    private readonly string _schema = PostgresFixture.NewSchema();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask DisposeAsync() => DisposeAllAsync(_stores);

    [Fact]
    public async Task InitializeAsync_FourStoresAtOnce_MigrateOnceAndAllWork()
    {
        var stores = Enumerable.Range(0, 4).Select(_ => Create()).ToList();

        await Task.WhenAll(stores.Select(s => Task.Run(() => s.InitializeAsync(Ct), Ct)));

        Assert.Equal(
            PostgresMigrations.All.Select(m => $"{m.Version}@{StartMs}"),
            await pg.StringsAsync($"SELECT version || '@' || applied_at_ms FROM {_schema}.schema_migrations ORDER BY version;", Ct));
        foreach (var store in stores)
        {
            Assert.Equal(PostgresMigrations.Latest, await store.SchemaVersionAsync(Ct));
        }

        await stores[0].CommitAsync(new Checkpoint([Snapshot("alice", 1, [1, 2, 3])], [], []), Ct);
        Assert.Single(await stores[3].LoadSnapshotsAsync(1, Ct));
    }

    [Fact]
    public async Task InitializeAsync_NewSchema_CreatesTablesIndexesAndByteOrderCollation()
    {
        await OpenAsync();

        Assert.Equal(
            ["audit_log", "consumer_cursors", "dead_letters", "findings", "grain_snapshots", "identity_risk", "partition_leases",
             "partition_progress", "response_actions", "schema_migrations", "siem_records", "silos"],
            await pg.StringsAsync($"SELECT table_name FROM information_schema.tables WHERE table_schema = '{_schema}' ORDER BY table_name COLLATE \"C\";", Ct));
        Assert.Equal(
            ["ix_findings_bucket_id", "ix_findings_detector", "ix_findings_entity", "ix_grain_snapshots_partition",
             "ix_response_actions_created", "ix_response_actions_identity", "ix_response_actions_state"],
            await pg.StringsAsync($"SELECT indexname FROM pg_indexes WHERE schemaname = '{_schema}' AND indexname LIKE 'ix_%' ORDER BY indexname COLLATE \"C\";", Ct));
        var collations = await pg.StringsAsync(
            $"""
            SELECT table_name || '.' || column_name || '=' || COALESCE(collation_name, 'default') FROM information_schema.columns
            WHERE table_schema = '{_schema}' AND column_name IN ('id', 'entity_id', 'identity_id', 'name');
            """,
            Ct);
        Assert.Contains("findings.id=C", collations);
        Assert.Contains("findings.entity_id=C", collations);
        Assert.Contains("grain_snapshots.id=C", collations);
        Assert.Contains("response_actions.id=C", collations);
        Assert.Contains("siem_records.id=C", collations);
    }

    [Fact]
    public async Task InitializeAsync_SchemaNewerThanCode_ThrowsNamingTheVersion()
    {
        await (await OpenAsync()).DisposeAsync();
        var newer = PostgresMigrations.Latest + 1;
        await pg.ExecuteAsync($"INSERT INTO {_schema}.schema_migrations (version, applied_at_ms) VALUES ({newer}, 0);", Ct);

        var store = Create();
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => store.InitializeAsync(Ct));

        Assert.Contains($"schema version {newer}", error.Message, StringComparison.Ordinal);
        Assert.Contains("newer", error.Message, StringComparison.Ordinal);
        Assert.Contains("State:Postgres:Schema", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidOperationException>(() => store.CountDeadLettersAsync(Ct));
    }

    [Fact]
    public async Task InitializeAsync_NothingListening_ThrowsNamingServerButNotPassword()
    {
        var options = new PostgresStoreOptions
        {
            ConnectionString = $"Host=127.0.0.1;Port={PeerProcess.FreePort()};Database=db;Username=u;Password=hunter2-secret;Timeout=3",
            Schema = _schema,
        };
        var store = Track(new PostgresStateStore(options, _time));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => store.InitializeAsync(Ct));

        Assert.Contains("127.0.0.1:", error.Message, StringComparison.Ordinal);
        Assert.Contains("State:Postgres:ConnectionString", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", store.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InitializeAsync_WrongPassword_ThrowsWithoutEchoingIt()
    {
        var options = pg.Options(_schema);
        options.ConnectionString = new NpgsqlConnectionStringBuilder(options.ConnectionString) { Password = "wrong-pass-xyz" }.ConnectionString;
        var store = Track(new PostgresStateStore(options, _time));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => store.InitializeAsync(Ct));

        Assert.Contains("password authentication failed", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-pass-xyz", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Options_PasswordFromSecretFile_ReplacesThePasswordOfTheConnectionString()
    {
        var file = Path.Combine(Path.GetTempPath(), "anomalyzt-pg-secret-" + Guid.NewGuid().ToString("N"));
        await File.WriteAllTextAsync(file, pg.Password + "\n", Ct);
        try
        {
            var options = pg.Options(_schema);
            options.ConnectionString = new NpgsqlConnectionStringBuilder(options.ConnectionString) { Password = null }.ConnectionString;
            options.Password = "file:" + file;
            Environment.SetEnvironmentVariable("AZT_TEST_PG_CONNECTION", options.ConnectionString);
            options.ConnectionString = "env:AZT_TEST_PG_CONNECTION";

            var store = Track(new PostgresStateStore(options, _time));
            await store.InitializeAsync(Ct);

            Assert.Equal(PostgresMigrations.Latest, await store.SchemaVersionAsync(Ct));
            Assert.DoesNotContain(pg.Password, store.Description, StringComparison.Ordinal);
            Assert.Contains(pg.Database, store.Description, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable("AZT_TEST_PG_CONNECTION", null);
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("", "anomalyzt", 20, "State:Postgres:ConnectionString is empty")]
    [InlineData("env:AZT_TEST_UNSET_VARIABLE", "anomalyzt", 20, "State:Postgres:ConnectionString names environment variable 'AZT_TEST_UNSET_VARIABLE'")]
    [InlineData("file:/nonexistent/azt-secret", "anomalyzt", 20, "State:Postgres:ConnectionString names secret file '/nonexistent/azt-secret'")]
    [InlineData("Host=x;Bogus=1;Password=topsecret", "anomalyzt", 20, "State:Postgres:ConnectionString is not a valid PostgreSQL connection string")]
    [InlineData("Port=5432;Password=topsecret", "anomalyzt", 20, "State:Postgres:ConnectionString names no Host")]
    [InlineData("Host=x;Password=topsecret", "Public", 20, "State:Postgres:Schema is 'Public'")]
    [InlineData("Host=x;Password=topsecret", "pg_temp", 20, "State:Postgres:Schema is 'pg_temp'")]
    [InlineData("Host=x;Password=topsecret", "a-b", 20, "State:Postgres:Schema is 'a-b'")]
    [InlineData("Host=x;Password=topsecret", "", 20, "State:Postgres:Schema is ''")]
    [InlineData("Host=x;Password=topsecret", "anomalyzt", 0, "State:Postgres:MaxPoolSize is 0")]
    [InlineData("Host=x;Password=topsecret", "anomalyzt", 1001, "State:Postgres:MaxPoolSize is 1001")]
    public void Options_Invalid_FailNamingTheKeyNeverTheSecret(string connectionString, string schema, int pool, string expected)
    {
        var options = new PostgresStoreOptions { ConnectionString = connectionString, Schema = schema, MaxPoolSize = pool };

        var failure = PostgresStoreOptionsValidator.Check(options);
        var error = Assert.Throws<ArgumentException>(() => new PostgresStateStore(options, _time));

        Assert.NotNull(failure);
        Assert.StartsWith(expected, failure, StringComparison.Ordinal);
        Assert.StartsWith(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("topsecret", failure, StringComparison.Ordinal);
        Assert.DoesNotContain("topsecret", PostgresStoreOptionsValidator.Describe(options), StringComparison.Ordinal);
    }

    [Fact]
    public void Options_Valid_DescribeShowsWhereButNotThePassword()
    {
        var options = new PostgresStoreOptions { ConnectionString = "Host=db.local;Port=6432;Database=azt;Username=silo;Password=topsecret" };

        Assert.Null(PostgresStoreOptionsValidator.Check(options));
        Assert.Equal("PostgreSQL db.local:6432/azt as silo, schema anomalyzt", PostgresStoreOptionsValidator.Describe(options));
    }

    [Fact]
    public async Task AddPostgresStateStore_BoundFromSection_OneInstanceForEveryInterfaceAndValidates()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["State:Postgres:ConnectionString"] = pg.ConnectionString,
                ["State:Postgres:Schema"] = _schema,
                ["State:Postgres:MaxPoolSize"] = "5",
            })
            .Build();
        await using (var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddPostgresStateStore().BuildServiceProvider())
        {
            var store = services.GetRequiredService<IStateStore>();
            await store.InitializeAsync(Ct);

            Assert.Same(store, services.GetRequiredService<PostgresStateStore>());
            Assert.Same(store, services.GetRequiredService<ILeaseStore>());
            Assert.Same(store, services.GetRequiredService<IClusterStore>());
            Assert.IsAssignableFrom<IResponseStore>(store);
            Assert.IsAssignableFrom<IRecordStore>(store);
            Assert.Equal(PostgresMigrations.Latest, await store.SchemaVersionAsync(Ct));
        }

        configuration["State:Postgres:Schema"] = "Bad-Schema";
        await using var bad = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddPostgresStateStore().BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() => bad.GetRequiredService<IOptions<PostgresStoreOptions>>().Value);
        Assert.Contains("State:Postgres:Schema is 'Bad-Schema'", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(pg.Password, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CommitAsync_FailureOnLastStatement_RollsBackWholeCheckpointAndReleasesTheLock()
    {
        var store = await OpenAsync();
        // Dead letters go in last, so this fails the checkpoint after its snapshot, finding and record were written.
        await pg.ExecuteAsync($"""
            CREATE FUNCTION {_schema}.fail_dead_letter() RETURNS trigger LANGUAGE plpgsql AS
            $$ BEGIN IF NEW.source = 'boom' THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$;
            CREATE TRIGGER fail_dead_letter BEFORE INSERT ON {_schema}.dead_letters
            FOR EACH ROW EXECUTE FUNCTION {_schema}.fail_dead_letter();
            """, Ct);
        var finding = NewFinding(EntityKind.Identity, "alice", "robust-level", StartMs);
        var checkpoint = new Checkpoint([Snapshot("alice", 0, [1, 2, 3])], [finding], [Letter("fine", [1]), Letter("boom", [1])]);

        var error = await Assert.ThrowsAsync<PostgresException>(() => store.CommitAsync(checkpoint, Ct));

        Assert.Contains("injected failure", error.Message, StringComparison.Ordinal);
        Assert.Null(await store.LoadSnapshotAsync(new EntityKey(EntityKind.Identity, "alice"), Ct));
        Assert.Empty((await store.QueryFindingsAsync(new FindingQuery(null, null, null, null, null, 10), Ct)).Items);
        Assert.Equal(0, await store.LatestRecordSeqAsync(Ct));
        Assert.Equal(0, await store.CountDeadLettersAsync(Ct));

        // Another instance can append at once: the append lock went with the failed transaction.
        var other = await OpenAsync();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        limit.CancelAfter(TimeSpan.FromSeconds(10));
        await other.CommitAsync(checkpoint with { DeadLetters = [Letter("fine", [1])] }, limit.Token);
        Assert.Equal(1, Assert.Single(await store.FindingsAfterAsync(0, 10, Ct)).Seq);
        Assert.Equal(1, Assert.Single(await store.QueryDeadLettersAsync(0, 10, Ct)).Id);
    }

    private PostgresStateStore Create() => Track(new PostgresStateStore(pg.Options(_schema), _time));

    private PostgresStateStore Track(PostgresStateStore store)
    {
        _stores.Add(store);
        return store;
    }

    private async Task<PostgresStateStore> OpenAsync()
    {
        var store = Create();
        await store.InitializeAsync(Ct);
        return store;
    }
}
