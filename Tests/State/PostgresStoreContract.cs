using System.Buffers.Text;
using System.Text;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.State;
using AnomalyZT.Silo.State.Postgres;
using AnomalyZT.Tests.Response.Contracts;
using static AnomalyZT.Tests.State.StoreTestData;

namespace AnomalyZT.Tests.State;

/// <summary>The PostgreSQL store against the shared contract, each test in a schema of its own.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresStoreContractTests(PostgresFixture pg) : StoreContractTests
{
    private readonly string _schema = PostgresFixture.NewSchema();

    protected override IStateStore Create() => new PostgresStateStore(pg.Options(_schema), Time);
}

/// <summary>The SQLite store against the same contract, so both are held to one behaviour.</summary>
public sealed class SqliteStoreContractTests : StoreContractTests
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "anomalyzt-contract-" + Guid.NewGuid().ToString("N"));

    protected override IStateStore Create() => new SqliteStateStore(new SqliteStoreOptions { DataDirectory = _directory, FileName = "c.db" }, Time);

    protected override ValueTask CleanUpAsync()
    {
        DeleteDirectory(_directory);
        return ValueTask.CompletedTask;
    }
}

/// <summary>What every state store must do the same way: snapshots, findings (insert-or-ignore, filters, cursor paging,
/// commit order), dead letters, the response outbox with compare-and-set, the audit chain, the record stream and
/// consumer cursors. A concrete class supplies the store; all stores it creates share one database.</summary>
public abstract partial class StoreContractTests : IAsyncDisposable
{
    private readonly List<IStateStore> _stores = [];

    protected ManualTime Time { get; } = new(DateTimeOffset.FromUnixTimeMilliseconds(StartMs));

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask DisposeAsync()
    {
        await DisposeAllAsync(_stores);
        await CleanUpAsync();
        GC.SuppressFinalize(this);
    }

    /// <summary>A new, unopened store on the test's database.</summary>
    protected abstract IStateStore Create();

    /// <summary>Removes what the test left behind, after every store is disposed.</summary>
    protected virtual ValueTask CleanUpAsync() => ValueTask.CompletedTask;

    protected IStateStore Unopened()
    {
        var store = Create();
        _stores.Add(store);
        return store;
    }

    protected async Task<IStateStore> OpenAsync()
    {
        var store = Unopened();
        await store.InitializeAsync(Ct);
        return store;
    }

    [Fact]
    public async Task InitializeAsync_Twice_IsNoOpAndSchemaIsLatest()
    {
        var store = await OpenAsync();
        var version = await store.SchemaVersionAsync(Ct);

        await store.InitializeAsync(Ct);
        var again = await OpenAsync();

        Assert.True(version >= 1);
        Assert.Equal(version, await again.SchemaVersionAsync(Ct));
    }

    [Fact]
    public async Task Calls_BeforeInitialize_ThrowInvalidOperationException()
    {
        var store = Unopened();

        await Assert.ThrowsAsync<InvalidOperationException>(() => store.CommitAsync(Of(snapshots: [Snapshot("alice", 0, [1])]), Ct));
        await Assert.ThrowsAsync<InvalidOperationException>(() => store.LoadSnapshotsAsync(0, Ct));
        await Assert.ThrowsAsync<InvalidOperationException>(() => ((IResponseStore)store).CursorAsync("x", Ct));
        await Assert.ThrowsAsync<InvalidOperationException>(() => ((IRecordStore)store).LatestRecordSeqAsync(Ct));
    }

    [Fact]
    public async Task Calls_AfterDispose_ThrowObjectDisposedException()
    {
        var store = await OpenAsync();
        await store.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => store.CommitAsync(Of(snapshots: [Snapshot("alice", 0, [1])]), Ct));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => store.QueryDeadLettersAsync(0, 10, Ct));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => store.InitializeAsync(Ct));
    }

    [Fact]
    public async Task CommitAsync_SameKeyTwice_LastSnapshotWins()
    {
        var store = await OpenAsync();

        await store.CommitAsync(Of(snapshots: [Snapshot("alice", 3, [1, 2, 3], version: 1)]), Ct);
        await store.CommitAsync(Of(snapshots: [Snapshot("alice", 4, [9], version: 2, updatedAtMs: StartMs + 1)]), Ct);
        await store.CommitAsync(Of(snapshots: [Snapshot("bob", 4, [1]), Snapshot("bob", 4, [2])]), Ct);

        var loaded = await store.LoadSnapshotAsync(new EntityKey(EntityKind.Identity, "alice"), Ct);
        Assert.NotNull(loaded);
        Assert.Equal(2, loaded.StateVersion);
        Assert.Equal([9], loaded.Data);
        Assert.Equal(StartMs + 1, loaded.UpdatedAtMs);
        Assert.Empty(await store.LoadSnapshotsAsync(3, Ct));
        Assert.Equal(["identity/alice:9", "identity/bob:2"], (await store.LoadSnapshotsAsync(4, Ct)).Select(s => $"{s.Key}:{s.Data[0]}"));

        // Again in the same partition: still one row for the key.
        await store.CommitAsync(Of(snapshots: [Snapshot("alice", 4, [8], version: 3)]), Ct);
        Assert.Equal(["identity/alice:8", "identity/bob:2"], (await store.LoadSnapshotsAsync(4, Ct)).Select(s => $"{s.Key}:{s.Data[0]}"));
    }

    [Fact]
    public async Task LoadSnapshotsAsync_SeveralPartitions_ReturnsOnlyThatPartitionInKeyOrder()
    {
        var store = await OpenAsync();
        Assert.Equal(-1, await store.MaxSnapshotPartitionAsync(Ct));
        await store.CommitAsync(
            Of(snapshots:
            [
                Snapshot("carol", 1, [3]),
                Snapshot("gpu-07", 1, [4], kind: EntityKind.Node),
                Snapshot("alice", 1, [1]),
                Snapshot("Zed", 1, [5]),
                Snapshot("bob", 2, [2]),
            ]),
            Ct);

        var partition1 = await store.LoadSnapshotsAsync(1, Ct);
        var partition2 = await store.LoadSnapshotsAsync(2, Ct);

        // Byte order: upper case before lower case, whatever the database's default collation.
        Assert.Equal(["identity/Zed", "identity/alice", "identity/carol", "node/gpu-07"], partition1.Select(s => s.Key.ToString()));
        Assert.All(partition1, s => Assert.Equal(1, s.Partition));
        Assert.Equal("identity/bob", Assert.Single(partition2).Key.ToString());
        Assert.Empty(await store.LoadSnapshotsAsync(0, Ct));
        Assert.Equal(2, await store.MaxSnapshotPartitionAsync(Ct));
    }

    [Fact]
    public async Task LoadSnapshotAsync_SameIdOtherKind_ReturnsNull()
    {
        var store = await OpenAsync();
        await store.CommitAsync(Of(snapshots: [Snapshot("shared-name", 0, [1])]), Ct);

        Assert.NotNull(await store.LoadSnapshotAsync(new EntityKey(EntityKind.Identity, "shared-name"), Ct));
        Assert.Null(await store.LoadSnapshotAsync(new EntityKey(EntityKind.Node, "shared-name"), Ct));
        Assert.Null(await store.LoadSnapshotAsync(new EntityKey(EntityKind.Identity, "nobody"), Ct));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(256)]
    [InlineData(1_048_576)]
    public async Task CommitAsync_SnapshotBytes_RoundTripExactly(int size)
    {
        var data = new byte[size];
        new Random(size).NextBytes(data);
        for (var i = 0; i < Math.Min(size, 256); i++)
        {
            data[i] = (byte)i; // every byte value, zero included, at the front
        }

        var store = await OpenAsync();
        await store.CommitAsync(Of(snapshots: [Snapshot("alice", 5, data, version: 7)]), Ct);

        var loaded = await store.LoadSnapshotAsync(new EntityKey(EntityKind.Identity, "alice"), Ct);
        Assert.NotNull(loaded);
        Assert.Equal(data, loaded.Data);
        Assert.Equal(new GrainSnapshot(new EntityKey(EntityKind.Identity, "alice"), 5, 7, loaded.Data, StartMs), loaded);
    }

    [Theory]
    [InlineData("nul\0inside")]
    [InlineData("\0")]
    [InlineData("soh\u0001and\u0002")]
    [InlineData("\u0001\0\u0001")]
    [InlineData("emoji \U0001F600 and ümlaut")]
    public async Task Text_WithControlCharacters_RoundTripsAndMatchesExactly(string id)
    {
        var store = await OpenAsync();
        var finding = NewFinding(EntityKind.Identity, id, "robust-level", StartMs);
        await store.CommitAsync(
            Of([Snapshot(id, 0, [1]), Snapshot(id + "x", 0, [2])], [finding], [Letter("late:identity/" + id, [1]) with { Reason = id }]),
            Ct);

        var snapshot = await store.LoadSnapshotAsync(new EntityKey(EntityKind.Identity, id), Ct);
        Assert.Equal(id, snapshot?.Key.Id);
        Assert.Equal([1], snapshot?.Data);
        Assert.Equal([id, id + "x"], (await store.LoadSnapshotsAsync(0, Ct)).Select(s => s.Key.Id));
        Assert.Equal(finding, Assert.Single((await store.QueryFindingsAsync(new FindingQuery(null, id, null, null, null, 10), Ct)).Items));
        Assert.Empty((await store.QueryFindingsAsync(new FindingQuery(null, id + "\0", null, null, null, 10), Ct)).Items);
        var letter = Assert.Single(await store.QueryDeadLettersAsync(0, 10, Ct));
        Assert.Equal("late:identity/" + id, letter.Source);
        Assert.Equal(id, letter.Reason);
    }

    [Fact]
    public async Task CommitAsync_DeadLetters_AppendedWithIncreasingIdsAndExactPayloads()
    {
        var store = await OpenAsync();
        byte[] binary = [0, 255, 10, 13, 0xC3, 0x28];
        await store.CommitAsync(Of(deadLetters: [Letter("http:envoy", binary, line: 3), Letter("replay:gpu", [])]), Ct);
        await store.CommitAsync(Of(deadLetters: [Letter("late:identity/alice", [1]) with { Id = 999 }]), Ct);

        var letters = await store.QueryDeadLettersAsync(0, 100, Ct);

        Assert.Equal([1L, 2, 3], letters.Select(l => l.Id));
        Assert.Equal(["http:envoy", "replay:gpu", "late:identity/alice"], letters.Select(l => l.Source));
        Assert.Equal(binary, letters[0].Payload);
        Assert.Empty(letters[1].Payload);
        Assert.Equal(new DeadLetter(1, StartMs, "http:envoy", 3, "bad json", letters[0].Payload), letters[0]);
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
    public async Task Limits_OutOfRange_ThrowArgumentOutOfRangeExceptionWithTheSameMessage()
    {
        var store = await OpenAsync();
        var responses = (IResponseStore)store;
        var records = (IRecordStore)store;

        Assert.Equal(0, await store.CountDeadLettersAsync(Ct));
        Assert.Empty(await store.QueryDeadLettersAsync(0, 1000, Ct));
        foreach (var call in new Func<Task>[]
        {
            () => store.QueryDeadLettersAsync(0, 0, Ct),
            () => store.RecentFindingsAsync(new EntityKey(EntityKind.Identity, "a"), 1001, Ct),
            () => store.QueryFindingsAsync(new FindingQuery(null, null, null, null, null, -1), Ct),
            () => store.QueryFindingsAsync(new FindingQuery(null, null, null, null, null, 0), Ct),
            () => store.QueryFindingsAsync(new FindingQuery(null, null, null, null, null, 1001), Ct),
            () => responses.FindingsAfterAsync(0, 0, Ct),
            () => responses.DueActionsAsync(0, 1001, Ct),
            () => responses.QueryActionsAsync(new ActionQuery(null, null, 0, string.Empty, 0), Ct),
            () => responses.AuditAfterAsync(0, 0, Ct),
            () => records.RecordsAfterAsync(0, 1001, Ct),
        })
        {
            var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(call);
            Assert.Contains("Limit must be between 1 and 1000", error.Message, StringComparison.Ordinal);
        }
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
        Assert.Equal("checkpoint", error.ParamName);
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
    public async Task CommitAsync_ConcurrentCallersAndReaders_EveryCheckpointCommittedWithDenseIds()
    {
        var store = await OpenAsync();

        var writers = Enumerable.Range(0, 16).Select(w => Task.Run(
            () => store.CommitAsync(
                Of([Snapshot($"user-{w}", w % 4, [(byte)w])],
                   [NewFinding(EntityKind.Identity, $"user-{w}", "robust-level", StartMs)],
                   [.. Enumerable.Range(0, 10).Select(i => Letter($"w{w}", [(byte)i]))]),
                Ct),
            Ct));
        var readers = Enumerable.Range(0, 8).Select(_ => Task.Run(() => store.CountDeadLettersAsync(Ct), Ct));
        await Task.WhenAll([.. writers, .. readers]);

        Assert.Equal(160, await store.CountDeadLettersAsync(Ct));
        var letters = await store.QueryDeadLettersAsync(0, 1000, Ct);
        Assert.Equal(Enumerable.Range(1, 160).Select(i => (long)i), letters.Select(l => l.Id));
        var snapshots = 0;
        for (var p = 0; p < 4; p++)
        {
            snapshots += (await store.LoadSnapshotsAsync(p, Ct)).Count;
        }

        Assert.Equal(16, snapshots);
        var stored = await ((IResponseStore)store).FindingsAfterAsync(0, 1000, Ct);
        Assert.Equal(Enumerable.Range(1, 16).Select(i => (long)i), stored.Select(s => s.Seq));
    }

    [Fact]
    public async Task CommitAsync_SameFindingIdTwice_KeepsFirstRowOnly()
    {
        var store = await OpenAsync();
        var first = NewFinding(EntityKind.Identity, "alice", "robust-level", StartMs);
        var replayed = first with { Explanation = "a replay must not overwrite the original" };

        await store.CommitAsync(Of(findings: [first, replayed]), Ct);
        await store.CommitAsync(Of(findings: [replayed]), Ct);

        var page = await store.QueryFindingsAsync(new FindingQuery(null, null, null, null, null, 100), Ct);
        Assert.Equal(first, Assert.Single(page.Items));
        var stored = Assert.Single(await ((IResponseStore)store).FindingsAfterAsync(0, 100, Ct));
        Assert.Equal(1, stored.Seq);
        Assert.Equal(1, await ((IRecordStore)store).LatestRecordSeqAsync(Ct));
    }

    [Theory]
    [InlineData(null, null, null, null)]
    [InlineData("identity", null, null, null)]
    [InlineData("node", null, null, null)]
    [InlineData("identity", "alice", null, null)]
    [InlineData(null, "alice", null, null)]
    [InlineData(null, null, "first-seen", null)]
    [InlineData(null, null, null, 3)]
    [InlineData("node", "alice", "robust-level", 2)]
    public async Task QueryFindingsAsync_Filters_ReturnExactlyTheMatchingFindingsInOrder(
        string? kindName, string? entityId, string? detector, int? sinceBucket)
    {
        var store = await OpenAsync();
        var all = FilterDataset();
        await store.CommitAsync(Of(findings: all), Ct);
        EntityKind? kind = EntityKey.TryParseKind(kindName, out var parsed) ? parsed : null;
        long? sinceMs = sinceBucket is { } b ? StartMs + (b * MinuteMs) : null;

        var page = await store.QueryFindingsAsync(new FindingQuery(kind, entityId, detector, sinceMs, null, 1000), Ct);

        var expected = all
            .Where(f => kind is null || f.EntityKind == kind)
            .Where(f => entityId is null || f.EntityId == entityId)
            .Where(f => detector is null || f.Detector == detector)
            .Where(f => sinceMs is null || f.BucketStartMs >= sinceMs)
            .OrderBy(f => f.BucketStartMs).ThenBy(f => f.Id, StringComparer.Ordinal)
            .ToList();
        Assert.NotEmpty(expected);
        Assert.Equal(expected, page.Items);
        Assert.Null(page.NextCursor);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(10)]
    [InlineData(250)]
    [InlineData(1000)]
    public async Task QueryFindingsAsync_PagingWithCursors_ReturnsEveryItemOnceInStableOrder(int limit)
    {
        var store = await OpenAsync();
        var all = Enumerable.Range(0, 250)
            .Select(i => NewFinding(EntityKind.Identity, $"user-{i:D3}", "robust-level", StartMs + (i % 10 * MinuteMs)))
            .ToList();
        var shuffled = all.ToArray();
        new Random(42).Shuffle(shuffled);
        foreach (var chunk in shuffled.Chunk(50))
        {
            await store.CommitAsync(Of(findings: chunk), Ct);
        }

        var seen = new List<Finding>();
        var pages = 0;
        string? cursor = null;
        do
        {
            var page = await store.QueryFindingsAsync(new FindingQuery(EntityKind.Identity, null, null, null, cursor, limit), Ct);
            Assert.InRange(page.Items.Count, 1, limit);
            seen.AddRange(page.Items);
            cursor = page.NextCursor;
            pages++;
            Assert.True(pages <= 250, "the cursor must move forward on every page");
        }
        while (cursor is not null);

        var expected = all.OrderBy(f => f.BucketStartMs).ThenBy(f => f.Id, StringComparer.Ordinal).ToList();
        Assert.Equal(expected, seen);
        Assert.Equal((250 + limit - 1) / limit, pages);

        // FindingsAfterAsync follows commit order, not bucket order.
        var inCommitOrder = await ((IResponseStore)store).FindingsAfterAsync(0, 1000, Ct);
        Assert.Equal(shuffled.Select(f => f.Id), inCommitOrder.Select(s => s.Finding.Id));
        Assert.Equal(Enumerable.Range(1, 250).Select(i => (long)i), inCommitOrder.Select(s => s.Seq));
        var tail = await ((IResponseStore)store).FindingsAfterAsync(240, 5, Ct);
        Assert.Equal([241L, 242, 243, 244, 245], tail.Select(s => s.Seq));
    }

    [Fact]
    public async Task QueryFindingsAsync_FindingsArriveBetweenPages_NoDuplicatesAndLaterOnesAppear()
    {
        var store = await OpenAsync();
        var initial = Enumerable.Range(0, 6)
            .Select(i => NewFinding(EntityKind.Node, $"gpu-{i}", "robust-level", StartMs + (i * MinuteMs)))
            .ToList();
        await store.CommitAsync(Of(findings: initial), Ct);
        var query = new FindingQuery(null, null, null, null, null, 3);
        var firstPage = await store.QueryFindingsAsync(query, Ct);

        var behind = NewFinding(EntityKind.Node, "gpu-late", "robust-level", StartMs);
        var ahead = NewFinding(EntityKind.Node, "gpu-new", "robust-level", StartMs + (10 * MinuteMs));
        await store.CommitAsync(Of(findings: [behind, ahead]), Ct);
        var rest = await store.QueryFindingsAsync(query with { Cursor = firstPage.NextCursor, Limit = 100 }, Ct);

        Assert.Equal(initial.Take(3), firstPage.Items);
        Assert.Equal([.. initial.Skip(3), ahead], rest.Items);
    }

    [Theory]
    [InlineData("no-colon", true)]
    [InlineData(":0123abcd", true)]
    [InlineData("1700000000000:", true)]
    [InlineData("x17:0123abcd", true)]
    [InlineData("99999999999999999999999:0123abcd", true)]
    [InlineData("not base64!", false)]
    [InlineData("a", false)]
    [InlineData("", false)]
    [InlineData("__-", false)] // base64url of 0xFF 0xFE: not UTF-8
    public async Task QueryFindingsAsync_BadCursor_ThrowsArgumentException(string text, bool encode)
    {
        var store = await OpenAsync();
        var cursor = encode ? Base64Url.EncodeToString(Encoding.UTF8.GetBytes(text)) : text;

        var error = await Assert.ThrowsAsync<ArgumentException>(
            () => store.QueryFindingsAsync(new FindingQuery(null, null, null, null, cursor, 10), Ct));

        Assert.StartsWith("Cursor is not valid", error.Message, StringComparison.Ordinal);
        Assert.Equal("query", error.ParamName);
    }

    [Fact]
    public async Task QueryFindingsAsync_OverlongCursor_ThrowsArgumentException()
    {
        var store = await OpenAsync();
        var cursor = new string('A', FindingCursor.MaxLength + 1);

        await Assert.ThrowsAsync<ArgumentException>(
            () => store.QueryFindingsAsync(new FindingQuery(null, null, null, null, cursor, 10), Ct));
    }

    [Fact]
    public async Task RecentFindingsAsync_NewestBucketFirst_OnlyThatEntity()
    {
        var store = await OpenAsync();
        var all = FilterDataset();
        await store.CommitAsync(Of(findings: all), Ct);

        var recent = await store.RecentFindingsAsync(new EntityKey(EntityKind.Node, "alice"), 3, Ct);

        var expected = all.Where(f => f.EntityKind == EntityKind.Node && f.EntityId == "alice")
            .OrderByDescending(f => f.BucketStartMs).ThenByDescending(f => f.Id, StringComparer.Ordinal).Take(3);
        Assert.Equal(expected, recent);
    }

    [Fact]
    public async Task CommitAsync_FindingWithNaNAndInfinities_RoundTripsExactly()
    {
        var store = await OpenAsync();
        var finding = NewFinding(EntityKind.Identity, "alice", "first-seen", StartMs) with
        {
            PValue = double.NaN,
            Observed = double.PositiveInfinity,
            Lower = double.NegativeInfinity,
            Score = 0.1 + 0.2, // a value with no short decimal form
            Explanation = "quote \" backslash \\ nul \0 line\nbreak",
        };

        await store.CommitAsync(Of(findings: [finding]), Ct);

        var loaded = Assert.Single((await store.QueryFindingsAsync(new FindingQuery(null, null, null, null, null, 10), Ct)).Items);
        Assert.Equal(finding, loaded);
        Assert.True(double.IsNaN(loaded.PValue));
        Assert.Equal(finding.Explanation, loaded.Explanation);
        Assert.Equal(0.1 + 0.2, loaded.Score);
    }
}
