using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.State;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AnomalyZT.Tests.State;

/// <summary>Dead letters, atomicity of a checkpoint, concurrency and registration.</summary>
public sealed partial class SqliteStateStoreTests
{
    [Fact]
    public async Task CommitAsync_DeadLetters_AppendedWithIncreasingIdsAndExactPayloads()
    {
        var store = await OpenAsync();
        byte[] binary = [0, 255, 10, 13, 0xC3, 0x28];
        await store.CommitAsync(Of(deadLetters: [Letter("http:envoy", binary, line: 3), Letter("replay:gpu", [])]), Ct);
        await store.CommitAsync(Of(deadLetters: [Letter("late:identity/alice", [1]) with { Id = 999 }]), Ct);

        var letters = await store.QueryDeadLettersAsync(0, 100, Ct);

        Assert.Equal(3, letters.Count);
        Assert.Equal(letters.OrderBy(l => l.Id).Select(l => l.Id), letters.Select(l => l.Id));
        Assert.Equal(3, letters.Select(l => l.Id).Distinct().Count());
        Assert.DoesNotContain(letters, l => l.Id is 0 or 999);
        Assert.Equal(["http:envoy", "replay:gpu", "late:identity/alice"], letters.Select(l => l.Source));
        Assert.Equal(binary, letters[0].Payload);
        Assert.Empty(letters[1].Payload);
        Assert.Equal(new DeadLetter(letters[0].Id, StartMs, "http:envoy", 3, "bad json", letters[0].Payload), letters[0]);
        Assert.Equal(3, await store.CountDeadLettersAsync(Ct));
    }

    [Fact]
    public async Task QueryDeadLettersAsync_AfterIdAndLimit_PagesThroughAllOnce()
    {
        var store = await OpenAsync();
        await store.CommitAsync(Of(deadLetters: [.. Enumerable.Range(0, 25).Select(i => Letter($"http:s{i}", [(byte)i]))]), Ct);

        var sources = new List<string>();
        var afterId = 0L;
        while (await store.QueryDeadLettersAsync(afterId, 10, Ct) is { Count: > 0 } page)
        {
            Assert.True(page.Count <= 10);
            Assert.True(page[0].Id > afterId, "afterId must be exclusive");
            sources.AddRange(page.Select(l => l.Source));
            afterId = page[^1].Id;
        }

        Assert.Equal(Enumerable.Range(0, 25).Select(i => $"http:s{i}"), sources);
    }

    [Fact]
    public async Task CountDeadLettersAsync_EmptyStore_ReturnsZero()
    {
        var store = await OpenAsync();

        Assert.Equal(0, await store.CountDeadLettersAsync(Ct));
        Assert.Empty(await store.QueryDeadLettersAsync(0, 1000, Ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.QueryDeadLettersAsync(0, 0, Ct));
    }

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
    public async Task CommitAsync_SnapshotWithNullData_ThrowsArgumentExceptionAndWritesNothing()
    {
        var store = await OpenAsync();
        var checkpoint = Of(
            [Snapshot("alice", 0, [1]), Snapshot("bob", 0, null!)],
            [NewFinding(EntityKind.Identity, "alice", "robust-level", StartMs)],
            [Letter("http:envoy", [1])]);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => store.CommitAsync(checkpoint, Ct));

        Assert.Contains("Checkpoint.Snapshots[1].Data is null", error.Message, StringComparison.Ordinal);
        Assert.Empty(await store.LoadSnapshotsAsync(0, Ct));
        Assert.Empty((await store.QueryFindingsAsync(new FindingQuery(null, null, null, null, null, 10), Ct)).Items);
        Assert.Equal(0, await store.CountDeadLettersAsync(Ct));
    }

    [Fact]
    public async Task CommitAsync_CancelledToken_ThrowsAndWritesNothing()
    {
        var store = await OpenAsync();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => store.CommitAsync(Of(deadLetters: [Letter("http:envoy", [1])]), cancelled.Token));

        Assert.Equal(0, await store.CountDeadLettersAsync(Ct));
    }

    [Fact]
    public async Task CommitAsync_ConcurrentCallersAndReaders_EveryCheckpointCommitted()
    {
        var store = await OpenAsync();

        var writers = Enumerable.Range(0, 16).Select(w => Task.Run(
            () => store.CommitAsync(
                Of([Snapshot($"user-{w}", w % 4, [(byte)w])], [], [.. Enumerable.Range(0, 10).Select(i => Letter($"w{w}", [(byte)i]))]),
                Ct),
            Ct));
        var readers = Enumerable.Range(0, 8).Select(_ => Task.Run(() => store.CountDeadLettersAsync(Ct), Ct));
        await Task.WhenAll([.. writers, .. readers]);

        Assert.Equal(160, await store.CountDeadLettersAsync(Ct));
        var letters = await store.QueryDeadLettersAsync(0, 1000, Ct);
        Assert.Equal(160, letters.Select(l => l.Id).Distinct().Count());
        var snapshots = 0;
        for (var p = 0; p < 4; p++)
        {
            snapshots += (await store.LoadSnapshotsAsync(p, Ct)).Count;
        }

        Assert.Equal(16, snapshots);
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

    private static Checkpoint Of(
        IReadOnlyList<GrainSnapshot>? snapshots = null,
        IReadOnlyList<Finding>? findings = null,
        IReadOnlyList<DeadLetter>? deadLetters = null) =>
        new(snapshots ?? [], findings ?? [], deadLetters ?? []);

    private static GrainSnapshot Snapshot(
        string id, int partition, byte[] data, int version = 1, long updatedAtMs = StartMs, EntityKind kind = EntityKind.Identity) =>
        new(new EntityKey(kind, id), partition, version, data, updatedAtMs);

    private static DeadLetter Letter(string source, byte[] payload, int line = 1) =>
        new(0, StartMs, source, line, "bad json", payload);
}
