using System.Collections.Concurrent;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.State;
using AnomalyZT.Silo.State.Postgres;
using static AnomalyZT.Tests.State.StoreTestData;

namespace AnomalyZT.Tests.State;

/// <summary>Several silos on one schema: store instances with pools of their own write at once while followers read
/// the sequenced streams; and partition leases.</summary>
public sealed partial class PostgresStateStoreTests
{
    [Fact]
    public async Task Streams_ConcurrentCommitsFromTwoInstances_FollowersMissNothingAndSeeCommitOrder()
    {
        var silos = new[] { await OpenAsync(), await OpenAsync() };
        var follower = await OpenAsync();
        const int Writers = 4;
        const int Commits = 25;
        const int PerCommit = 3;
        var total = Writers * Commits * PerCommit;
        using var writersDone = new CancellationTokenSource();

        var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(
            async () =>
            {
                var random = new Random(w);
                for (var c = 0; c < Commits; c++)
                {
                    var findings = Enumerable.Range(0, PerCommit)
                        .Select(i => NewFinding(EntityKind.Identity, $"w{w}-c{c}-i{i}", "robust-level", StartMs - (random.Next(100) * 60_000)))
                        .ToList();
                    await silos[w % 2].CommitAsync(new Checkpoint([Snapshot($"w{w}", w, [1, 2, 3])], findings, c % 5 == 0 ? [Letter($"w{w}", [1])] : []), Ct);
                    await Task.Delay(random.Next(3), Ct);
                }
            },
            Ct)).ToList();
        var watcher = Task.WhenAll(writers).ContinueWith(_ => writersDone.Cancel(), TaskScheduler.Default);

        var records = FollowAsync(async after => (await follower.RecordsAfterAsync(after, 17, Ct)).Select(r => (r.Seq, r.Record.Id)).ToList());
        var findings = FollowAsync(async after => (await follower.FindingsAfterAsync(after, 13, Ct)).Select(f => (f.Seq, f.Finding.EntityId + "|" + f.Finding.Id)).ToList());
        var letters = FollowAsync(async after => (await follower.QueryDeadLettersAsync(after, 2, Ct)).Select(l => (l.Id, l.Source)).ToList());
        await Task.WhenAll(writers);
        await watcher;
        var (seenRecords, seenFindings, seenLetters) = (await records, await findings, await letters);

        // Positions are dense and the followers, reading while the commits ran, saw every row exactly once in order.
        Assert.Equal(Enumerable.Range(1, total).Select(i => (long)i), seenRecords.Select(r => r.Seq));
        Assert.Equal(Enumerable.Range(1, total).Select(i => (long)i), seenFindings.Select(f => f.Seq));
        Assert.Equal(Enumerable.Range(1, Writers * 5).Select(i => (long)i), seenLetters.Select(l => l.Seq));
        Assert.Equal(seenFindings.Select(f => "finding:" + f.Id.Split('|')[1]), seenRecords.Select(r => r.Id));
        Assert.Equal(total, seenFindings.Select(f => f.Id).Distinct().Count());
        // Each checkpoint's findings are contiguous and in list order: one commit, one run of positions.
        Assert.All(
            seenFindings.Select(f => f.Id.Split('|')[0]).Chunk(PerCommit),
            run => Assert.Equal(Enumerable.Range(0, PerCommit).Select(i => run[0][..^1] + i), run));

        async Task<List<(long Seq, string Id)>> FollowAsync(Func<long, Task<List<(long Seq, string Id)>>> page)
        {
            var seen = new List<(long Seq, string Id)>();
            var after = 0L;
            var drained = false;
            while (!drained)
            {
                // Once the writers are done, one more empty page means everything was read.
                var finished = writersDone.IsCancellationRequested;
                var items = await page(after);
                foreach (var item in items)
                {
                    Assert.True(item.Seq > after, "positions rise");
                    seen.Add(item);
                    after = item.Seq;
                }

                drained = finished && items.Count == 0;
                if (items.Count == 0 && !finished)
                {
                    await Task.Delay(1, Ct);
                }
            }

            return seen;
        }
    }

    [Fact]
    public async Task Audit_ConcurrentAppendsFromTwoInstances_OneUnbrokenGapFreeChain()
    {
        var silos = new[] { await OpenAsync(), await OpenAsync() };
        var initial = Enumerable.Range(0, 20).Select(i => NewAction($"a{i}")).ToList();
        await silos[0].CommitResponseAsync(
            new ResponseCommit("responder", 1, [], initial, [], [.. initial.Select(a => new AuditEntry(a.Id, "recorded", "policy", "r"))]),
            Ct);
        var results = new ConcurrentBag<bool>();

        // Executors on both silos deliver the same actions (compare-and-set picks one winner per action) while both
        // responders record new ones.
        var executors = Enumerable.Range(0, 4).Select(e => Task.Run(
            async () =>
            {
                foreach (var action in initial)
                {
                    var done = action with { State = ResponseActionState.Done, Revision = 1, UpdatedAtMs = StartMs + e };
                    results.Add(await silos[e % 2].UpdateActionAsync(done, 0, new AuditEntry(action.Id, "delivered", $"executor-{e}", "ok"), Ct));
                }
            },
            Ct));
        var responders = Enumerable.Range(0, 2).Select(r => Task.Run(
            async () =>
            {
                for (var i = 0; i < 10; i++)
                {
                    var fresh = NewAction($"r{r}-{i}");
                    await silos[r].CommitResponseAsync(
                        new ResponseCommit($"responder-{r}", i, [], [fresh], [], [new AuditEntry(fresh.Id, "recorded", "policy", "r")]),
                        Ct);
                }
            },
            Ct));
        await Task.WhenAll([.. executors, .. responders]);

        Assert.Equal(initial.Count, results.Count(won => won));
        var audit = await silos[1].AuditAfterAsync(0, 1000, Ct);
        var expected = initial.Count + initial.Count + 20;
        Assert.Equal(Enumerable.Range(1, expected).Select(i => (long)i), audit.Select(l => l.Seq));
        Assert.Null(AuditChain.FirstBroken(audit));
        Assert.Equal(initial.Count, audit.Count(l => l.Event == "delivered"));
        Assert.Equal(expected, await silos[0].LatestRecordSeqAsync(Ct));
        Assert.All(initial, a => Assert.Single(audit, l => l.ActionId == a.Id && l.Event == "delivered"));
    }

    [Fact]
    public async Task Leases_AcquireRenewExpireStealRelease_EpochRisesOnEveryNewOwner()
    {
        var silo1 = await OpenAsync();
        var silo2 = await OpenAsync();
        var ttl = TimeSpan.FromSeconds(30);

        var first = await silo1.TryAcquireLeaseAsync(3, "silo-1", ttl, Ct);
        Assert.NotNull(first);
        Assert.Equal((3, "silo-1", 1L, true), (first.Partition, first.Owner, first.Epoch, first.Held));
        Assert.InRange(first.ExpiresAt - DateTimeOffset.UtcNow, TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(40));
        Assert.Null(await silo2.TryAcquireLeaseAsync(3, "silo-2", ttl, Ct));

        // The holder taking it again extends it without a new epoch; renew extends all it holds.
        var again = await silo1.TryAcquireLeaseAsync(3, "silo-1", ttl, Ct);
        Assert.Equal(1, again?.Epoch);
        Assert.NotNull(await silo1.TryAcquireLeaseAsync(4, "silo-1", TimeSpan.FromMilliseconds(300), Ct));
        Assert.Equal([3, 4], (await silo1.RenewLeasesAsync("silo-1", ttl, Ct)).Select(l => l.Partition));
        Assert.Empty(await silo2.RenewLeasesAsync("silo-2", ttl, Ct));

        // A short lease lapses by the database clock; renewing does not revive it; another silo steals it, epoch + 1.
        Assert.NotNull(await silo1.TryAcquireLeaseAsync(5, "silo-1", TimeSpan.FromMilliseconds(200), Ct));
        await WaitUntilAsync(async () => (await silo2.LeasesAsync(Ct)).Single(l => l.Partition == 5) is { Held: false });
        Assert.Equal([3, 4], (await silo1.RenewLeasesAsync("silo-1", ttl, Ct)).Select(l => l.Partition));
        var stolen = await silo2.TryAcquireLeaseAsync(5, "silo-2", ttl, Ct);
        Assert.Equal(("silo-2", 2L, true), (stolen?.Owner, stolen?.Epoch, stolen?.Held));
        Assert.Null(await silo1.TryAcquireLeaseAsync(5, "silo-1", ttl, Ct));

        // Release: only the holder can; the next owner (even the same silo) raises the epoch.
        Assert.False(await silo1.ReleaseLeaseAsync(5, "silo-1", Ct));
        Assert.True(await silo2.ReleaseLeaseAsync(5, "silo-2", Ct));
        Assert.False(await silo2.ReleaseLeaseAsync(5, "silo-2", Ct));
        var released = (await silo1.LeasesAsync(Ct)).Single(l => l.Partition == 5);
        Assert.Equal((string.Empty, 2L, false), (released.Owner, released.Epoch, released.Held));
        Assert.Equal(3, (await silo2.TryAcquireLeaseAsync(5, "silo-2", ttl, Ct))?.Epoch);

        Assert.Equal(
            ["3:silo-1:1:True", "4:silo-1:1:True", "5:silo-2:3:True"],
            (await silo1.LeasesAsync(Ct)).Select(l => $"{l.Partition}:{l.Owner}:{l.Epoch}:{l.Held}"));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => silo1.TryAcquireLeaseAsync(-1, "silo-1", ttl, Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => silo1.TryAcquireLeaseAsync(1, string.Empty, ttl, Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => silo1.TryAcquireLeaseAsync(1, "silo-1", TimeSpan.Zero, Ct));
    }

    [Fact]
    public async Task Leases_EightSilosRaceForOneFreePartition_ExactlyOneWins()
    {
        var stores = new List<PostgresStateStore>();
        for (var i = 0; i < 4; i++)
        {
            stores.Add(await OpenAsync());
        }

        for (var round = 0; round < 5; round++)
        {
            var partition = 100 + round;
            var attempts = await Task.WhenAll(Enumerable.Range(0, 8).Select(s => Task.Run(
                () => stores[s % 4].TryAcquireLeaseAsync(partition, $"silo-{s}", TimeSpan.FromSeconds(30), Ct), Ct)));

            var winner = Assert.Single(attempts, a => a is not null);
            Assert.Equal(1, winner!.Epoch);
            Assert.Equal(winner.Owner, (await stores[0].LeasesAsync(Ct)).Single(l => l.Partition == partition).Owner);
        }
    }

    [Fact]
    public async Task CommitAsync_WithProgress_IsFencedByTheLeaseEpoch()
    {
        var silo1 = await OpenAsync();
        var silo2 = await OpenAsync();
        var checkpoint = new Checkpoint([Snapshot("alice", 7, [1, 2, 3])], [NewFinding(EntityKind.Identity, "alice", "robust-level", StartMs)], [Letter("x", [1])]);

        var noLease = await Assert.ThrowsAsync<LeaseLostException>(
            () => silo1.CommitAsync(checkpoint with { Progress = new PartitionProgress(7, "silo-1", 1, []) }, Ct));
        Assert.Contains("has no lease", noLease.Message, StringComparison.Ordinal);

        Assert.Null(await silo1.LoadProgressAsync(7, Ct));
        Assert.Equal(1, (await silo1.TryAcquireLeaseAsync(7, "silo-1", TimeSpan.FromMilliseconds(200), Ct))?.Epoch);
        await silo1.CommitAsync(checkpoint with { Progress = new PartitionProgress(7, "silo-1", 1, ["b1", "b2\0"]) }, Ct);
        var progress = await silo2.LoadProgressAsync(7, Ct);
        Assert.NotNull(progress);
        Assert.Equal((7, "silo-1", 1L), (progress.Partition, progress.Owner, progress.Epoch));
        Assert.Equal(["b1", "b2\0"], progress.AppliedBatchIds);
        await WaitUntilAsync(async () => (await silo2.LeasesAsync(Ct)).Single(l => l.Partition == 7) is { Held: false });
        // Expired but not taken: the old owner's commit still goes through.
        await silo1.CommitAsync(checkpoint with { Progress = new PartitionProgress(7, "silo-1", 1, ["b3"]) }, Ct);
        Assert.Equal(2, (await silo2.TryAcquireLeaseAsync(7, "silo-2", TimeSpan.FromSeconds(30), Ct))?.Epoch);

        var late = checkpoint with
        {
            Snapshots = [Snapshot("bob", 7, [1, 2, 3])],
            Findings = [NewFinding(EntityKind.Identity, "bob", "robust-level", StartMs)],
            Progress = new PartitionProgress(7, "silo-1", 1, []),
        };
        var lost = await Assert.ThrowsAsync<LeaseLostException>(() => silo1.CommitAsync(late, Ct));
        Assert.Contains("held by 'silo-2' at epoch 2", lost.Message, StringComparison.Ordinal);
        Assert.Null(await silo1.LoadSnapshotAsync(new EntityKey(EntityKind.Identity, "bob"), Ct));
        Assert.Single(await silo1.FindingsAfterAsync(0, 10, Ct));
        Assert.Equal(2, await silo1.CountDeadLettersAsync(Ct));
        await Assert.ThrowsAsync<LeaseLostException>(
            () => silo2.CommitAsync(late with { Progress = new PartitionProgress(7, "silo-2", 1, []) }, Ct));

        Assert.Equal(["b3"], (await silo2.LoadProgressAsync(7, Ct))!.AppliedBatchIds);

        // Progress alone (nothing else to write) is fenced and stored too; it replaces the previous one.
        await silo2.CommitAsync(new Checkpoint([], [], []) { Progress = new PartitionProgress(7, "silo-2", 2, ["b9"]) }, Ct);
        var alone = await silo1.LoadProgressAsync(7, Ct);
        Assert.Equal(("silo-2", 2L, "b9"), (alone?.Owner, alone?.Epoch, Assert.Single(alone!.AppliedBatchIds)));
        await silo2.CommitAsync(late with { Progress = new PartitionProgress(7, "silo-2", 2, []) }, Ct);
        Assert.NotNull(await silo1.LoadSnapshotAsync(new EntityKey(EntityKind.Identity, "bob"), Ct));
        Assert.Empty((await silo1.LoadProgressAsync(7, Ct))!.AppliedBatchIds);
    }

    [Fact]
    public async Task Silos_HeartbeatExpireLeave_LiveSilosByTheDatabaseClock()
    {
        var store = await OpenAsync();

        await store.HeartbeatAsync("silo-b", TimeSpan.FromSeconds(30), Ct);
        await store.HeartbeatAsync("silo-a", TimeSpan.FromSeconds(30), Ct);
        await store.HeartbeatAsync("Silo-c", TimeSpan.FromMilliseconds(150), Ct);
        Assert.Equal(["Silo-c", "silo-a", "silo-b"], await store.LiveSilosAsync(Ct));

        await WaitUntilAsync(async () => (await store.LiveSilosAsync(Ct)).Count == 2);
        await store.LeaveAsync("silo-b", Ct);
        await store.LeaveAsync("never-joined", Ct);
        Assert.Equal(["silo-a"], await store.LiveSilosAsync(Ct));
        await store.HeartbeatAsync("silo-b", TimeSpan.FromSeconds(30), Ct);
        Assert.Equal(["silo-a", "silo-b"], await store.LiveSilosAsync(Ct));
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met within 10 s");
            await Task.Delay(50, Ct);
        }
    }

    private static ResponseAction NewAction(string name) => new()
    {
        Id = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(name)))[..32],
        Kind = ResponseActionKind.Disable,
        IdentityId = name + "@corp",
        Connector = "idp",
        Rule = "rule",
        Reason = "test",
        Risk = 60,
        State = ResponseActionState.Queued,
        CreatedAtMs = StartMs,
        UpdatedAtMs = StartMs,
    };
}
