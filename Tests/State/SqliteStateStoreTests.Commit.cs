using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.State;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using static AnomalyZT.Tests.State.StoreTestData;

namespace AnomalyZT.Tests.State;

/// <summary>What a checkpoint leaves in the file (rollback of a failed one, the stored JSON) and registration.</summary>
public sealed partial class SqliteStateStoreTests
{
    [Fact]
    public async Task CommitAsync_FailureOnLastStatement_RollsBackWholeCheckpoint()
    {
        var store = await OpenAsync();
        await using (var side = OpenSide())
        {
            // The dead letters go in last, so this fails the checkpoint after its snapshot and finding were written.
            await ExecuteAsync(side, """
                CREATE TRIGGER fail_dead_letter BEFORE INSERT ON dead_letters WHEN NEW.source = 'boom'
                BEGIN SELECT RAISE(ABORT, 'injected failure'); END;
                """);
        }

        var finding = NewFinding(EntityKind.Identity, "alice", "robust-level", StartMs);
        var checkpoint = Of([Snapshot("alice", 0, [1])], [finding], [Letter("fine", [1]), Letter("boom", [2])]);

        var error = await Assert.ThrowsAsync<SqliteException>(() => store.CommitAsync(checkpoint, Ct));

        Assert.Contains("injected failure", error.Message, StringComparison.Ordinal);
        Assert.Null(await store.LoadSnapshotAsync(new EntityKey(EntityKind.Identity, "alice"), Ct));
        Assert.Empty((await store.QueryFindingsAsync(new FindingQuery(null, null, null, null, null, 10), Ct)).Items);
        Assert.Equal(0, await store.CountDeadLettersAsync(Ct));

        // The writer is usable afterwards: it is not left inside the failed transaction.
        await store.CommitAsync(checkpoint with { DeadLetters = [Letter("fine", [1])] }, Ct);
        Assert.NotNull(await store.LoadSnapshotAsync(new EntityKey(EntityKind.Identity, "alice"), Ct));
        Assert.Single((await store.QueryFindingsAsync(new FindingQuery(null, null, null, null, null, 10), Ct)).Items);
    }

    [Fact]
    public async Task CommitAsync_FindingWithNaNAndInfinity_StoredJsonSpellsThemAsStrings()
    {
        var store = await OpenAsync();
        var finding = NewFinding(EntityKind.Identity, "alice", "first-seen", StartMs) with { PValue = double.NaN, Observed = double.PositiveInfinity };

        await store.CommitAsync(Of(findings: [finding]), Ct);

        await using var side = OpenSide();
        var json = Assert.Single(await StringsAsync(side, "SELECT json FROM findings;"));
        Assert.Contains("\"pValue\":\"NaN\"", json, StringComparison.Ordinal);
        Assert.Contains("\"observed\":\"Infinity\"", json, StringComparison.Ordinal);
        Assert.Contains("\"entityKind\":\"Identity\"", json, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddSqliteStateStore_BoundFromStateSection_ResolvesWorkingStoreAndValidates()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["State:DataDirectory"] = _directory, ["State:FileName"] = "di.db" })
            .Build();
        await using var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddSqliteStateStore()
            .BuildServiceProvider();

        var store = services.GetRequiredService<IStateStore>();
        await store.InitializeAsync(Ct);

        Assert.True(File.Exists(Path.Combine(_directory, "di.db")));
        configuration["State:FileName"] = "a/b.db";
        var bad = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddSqliteStateStore().BuildServiceProvider();
        await using (bad)
        {
            var error = Assert.Throws<OptionsValidationException>(() => bad.GetRequiredService<IOptions<SqliteStoreOptions>>().Value);
            Assert.Contains("State:FileName is 'a/b.db'", error.Message, StringComparison.Ordinal);
        }
    }
}
