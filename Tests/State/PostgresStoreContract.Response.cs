using System.Text.Json;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.Serialization;
using AnomalyZT.Silo.Siem;
using AnomalyZT.Silo.State;
using static AnomalyZT.Tests.State.StoreTestData;

namespace AnomalyZT.Tests.State;

/// <summary>The contract's response side: outbox, compare-and-set, audit chain, risk, record stream and cursors.</summary>
public abstract partial class StoreContractTests
{
    [Fact]
    public async Task CommitResponseAsync_NewAndKnownActions_RecordsOnlyNewOnesAndTheirAuditLines()
    {
        var store = (IResponseStore)await OpenAsync();
        var records = (IRecordStore)store;
        var a = Action("a", "alice@corp", ResponseActionState.Queued, StartMs) with { Token = "tok-a" };
        var b = Action("b", "bob@corp", ResponseActionState.PendingApproval, StartMs + 1);
        var guard = NewFinding(EntityKind.Connector, "idp", "breaker", StartMs, "actions");
        var change = new RiskChange("alice@corp", 10, 70, StartMs, "f1");

        var first = await store.CommitResponseAsync(
            new ResponseCommit("responder", 5, [new RiskRecord("alice@corp", StartMs, "{\"r\":70}")], [a, b], [guard],
                [Audit(a, "recorded"), Audit(b, "recorded"), new AuditEntry("breaker:idp", "opened", "policy", "5 actions in 10 min")],
                [change]),
            Ct);

        Assert.Equal([a.Id, b.Id], first);
        Assert.Equal(5, await store.CursorAsync("responder", Ct));
        Assert.Equal(new RiskRecord("alice@corp", StartMs, "{\"r\":70}"), await store.LoadRiskAsync("alice@corp", Ct));
        Assert.Null(await store.LoadRiskAsync("bob@corp", Ct));
        var audit = await store.AuditAfterAsync(0, 100, Ct);
        Assert.Equal([1L, 2, 3], audit.Select(l => l.Seq));
        Assert.Equal([a.Id, b.Id, "breaker:idp"], audit.Select(l => l.ActionId));
        Assert.Equal("{}", audit[2].ActionJson);
        Assert.Equal(AuditChain.Genesis, audit[0].PrevHash);
        Assert.All(audit, l => Assert.Equal(StartMs, l.AtMs));
        Assert.Null(AuditChain.FirstBroken(audit));
        Assert.Equal(
            [$"action:{a.Id}:recorded:0", $"action:{b.Id}:recorded:0", "finding:" + guard.Id, "risk:alice@corp:f1"],
            (await records.RecordsAfterAsync(0, 100, Ct)).Select(r => r.Record.Id));
        Assert.Equal(guard.Id, Assert.Single(await store.FindingsAfterAsync(0, 10, Ct)).Finding.Id);

        // A re-run of the same batch plus one new action: only the new one and its line are recorded.
        var c = Action("c", "carol@corp", ResponseActionState.Queued, StartMs + 2);
        Time.Advance(TimeSpan.FromSeconds(1));
        var second = await store.CommitResponseAsync(
            new ResponseCommit("responder", 9, [], [a with { Reason = "changed" }, c], [guard], [Audit(a, "recorded"), Audit(c, "recorded")]),
            Ct);

        Assert.Equal([c.Id], second);
        Assert.Equal("test", (await store.GetActionAsync(a.Id, Ct))?.Reason);
        Assert.Equal("tok-a", (await store.GetActionAsync(a.Id, Ct))?.Token);
        var all = await store.AuditAfterAsync(0, 100, Ct);
        Assert.Equal(4, all.Count);
        Assert.Equal(c.Id, all[3].ActionId);
        Assert.Equal(audit[2].Hash, all[3].PrevHash);
        Assert.Null(AuditChain.FirstBroken(all));
        Assert.Null(AuditChain.FirstBroken(await store.AuditAfterAsync(3, 10, Ct), audit[2].Hash));
        Assert.Equal(5, await records.LatestRecordSeqAsync(Ct));
        Assert.Equal(9, await records.CursorAsync("responder", Ct));
    }

    [Fact]
    public async Task UpdateActionAsync_CompareAndSet_OnlyTheExpectedRevisionWins()
    {
        var store = (IResponseStore)await OpenAsync();
        var a = Action("a", "alice@corp", ResponseActionState.Queued, StartMs) with { Token = "secret-token" };
        await store.CommitResponseAsync(new ResponseCommit("responder", 1, [], [a], [], [Audit(a, "recorded")]), Ct);

        var delivered = a with { State = ResponseActionState.Done, Revision = 1, Token = null, ExpiresAtMs = StartMs + 60_000, UpdatedAtMs = StartMs + 5 };
        var won = await store.UpdateActionAsync(delivered, 0, Audit(delivered, "delivered", "executor"), Ct);
        var stale = a with { State = ResponseActionState.Rejected, Revision = 1 };
        var lost = await store.UpdateActionAsync(stale, 0, Audit(stale, "rejected", "key-1"), Ct);

        Assert.True(won);
        Assert.False(lost);
        var stored = await store.GetActionAsync(a.Id, Ct);
        Assert.NotNull(stored);
        Assert.Equal(ResponseActionState.Done, stored.State);
        Assert.Equal(1, stored.Revision);
        Assert.Null(stored.Token);
        var audit = await store.AuditAfterAsync(0, 10, Ct);
        Assert.Equal(["recorded", "delivered"], audit.Select(l => l.Event));
        Assert.Equal(JsonSerializer.Serialize(delivered, AnomalyJsonContext.Default.ResponseAction), audit[1].ActionJson);
        Assert.Null(AuditChain.FirstBroken(audit));
        Assert.Equal(
            [$"action:{a.Id}:recorded:0", $"action:{a.Id}:delivered:1"],
            (await ((IRecordStore)store).RecordsAfterAsync(0, 10, Ct)).Select(r => r.Record.Id));
        Assert.False(await store.UpdateActionAsync(Action("nope", "x", ResponseActionState.Done, StartMs), 0, new AuditEntry("nope", "delivered", "executor", ""), Ct));
        Assert.Null(await store.GetActionAsync("nope", Ct));
    }

    [Fact]
    public async Task ActionQueries_FiltersPagingDueAndCounts_MatchTheContract()
    {
        var store = (IResponseStore)await OpenAsync();
        var now = StartMs + 100_000;
        ResponseAction[] actions =
        [
            Action("q-due", "alice@corp", ResponseActionState.Queued, StartMs) with { NextAttemptAtMs = now - 1, Token = "t1" },
            Action("q-later", "alice@corp", ResponseActionState.Queued, StartMs + 1) with { NextAttemptAtMs = now + 1 },
            Action("d-restore", "bob@corp", ResponseActionState.Done, StartMs + 2) with { RestorePending = true, NextAttemptAtMs = now },
            Action("d-expired", "bob@corp", ResponseActionState.Done, StartMs + 2) with { ExpiresAtMs = now - 5 },
            Action("d-forever", "carol@corp", ResponseActionState.Done, StartMs + 3),
            Action("d-active", "carol@corp", ResponseActionState.Done, StartMs + 3) with { ExpiresAtMs = now + 5 },
            Action("failed", "alice@corp", ResponseActionState.Failed, StartMs + 4) with { NextAttemptAtMs = 0 },
            Action("pending", "Alice@corp", ResponseActionState.PendingApproval, StartMs + 4),
        ];
        await store.CommitResponseAsync(new ResponseCommit("responder", 1, [], actions, [], []), Ct);

        var due = await store.DueActionsAsync(now, 100, Ct);
        Assert.Equal([Id("d-expired"), Id("q-due"), Id("d-restore")], due.Select(a => a.Id));
        Assert.Equal("t1", due[1].Token);
        Assert.Equal([Id("d-expired")], (await store.DueActionsAsync(now, 1, Ct)).Select(a => a.Id));

        var everything = await store.QueryActionsAsync(new ActionQuery(null, null, 0, string.Empty, 1000), Ct);
        Assert.Equal(
            actions.OrderBy(a => a.CreatedAtMs).ThenBy(a => a.Id, StringComparer.Ordinal).Select(a => a.Id),
            everything.Select(a => a.Id));
        Assert.All(everything, a => Assert.Null(a.Token));
        var paged = new List<string>();
        var (afterMs, afterId) = (0L, string.Empty);
        while (await store.QueryActionsAsync(new ActionQuery(null, null, afterMs, afterId, 3), Ct) is { Count: > 0 } page)
        {
            paged.AddRange(page.Select(a => a.Id));
            (afterMs, afterId) = (page[^1].CreatedAtMs, page[^1].Id);
        }

        Assert.Equal(everything.Select(a => a.Id), paged);
        Assert.Equal(
            [Id("q-due"), Id("q-later")],
            (await store.QueryActionsAsync(new ActionQuery(ResponseActionState.Queued, "alice@corp", 0, string.Empty, 10), Ct)).Select(a => a.Id));
        Assert.Equal([Id("pending")], (await store.QueryActionsAsync(new ActionQuery(null, "Alice@corp", 0, string.Empty, 10), Ct)).Select(a => a.Id));
        Assert.Equal(
            [Id("q-due"), Id("q-later"), Id("failed")],
            (await store.ActionsOfIdentityAsync("alice@corp", StartMs, Ct)).Select(a => a.Id));
        Assert.Equal([Id("failed")], (await store.ActionsOfIdentityAsync("alice@corp", StartMs + 2, Ct)).Select(a => a.Id));
        Assert.Equal(
            everything.Where(a => a.CreatedAtMs >= StartMs + 3).Select(a => a.Id),
            (await store.ActionsSinceAsync(StartMs + 3, Ct)).Select(a => a.Id));
        var counts = await store.CountActionsAsync(Ct);
        Assert.Equal(
            ["PendingApproval=1", "Queued=2", "Done=4", "Failed=1"],
            counts.OrderBy(c => c.Key).Select(c => $"{c.Key}={c.Value}"));
    }

    [Fact]
    public async Task Cursors_DefaultZero_SharedByBothInterfaces_LastWriteWins()
    {
        var store = await OpenAsync();
        var responses = (IResponseStore)store;
        var records = (IRecordStore)store;

        Assert.Equal(0, await responses.CursorAsync("sink:splunk", Ct));
        await records.SetCursorAsync("sink:splunk", 42, Ct);
        await responses.SetCursorAsync("responder", 7, Ct);
        await records.SetCursorAsync("sink:splunk", 43, Ct);

        Assert.Equal(43, await responses.CursorAsync("sink:splunk", Ct));
        Assert.Equal(7, await records.CursorAsync("responder", Ct));
        Assert.Equal(0, await records.CursorAsync("Responder", Ct));
    }

    [Fact]
    public async Task Records_FindingsOfCheckpoints_StreamOnceInCommitOrderWithPaging()
    {
        var store = await OpenAsync();
        var records = (IRecordStore)store;
        Assert.Equal(0, await records.LatestRecordSeqAsync(Ct));
        var findings = Enumerable.Range(0, 30).Select(i => NewFinding(EntityKind.Node, $"n{i}", "robust-level", StartMs - (i * MinuteMs))).ToList();

        await store.CommitAsync(Of(findings: findings[..20]), Ct);
        await store.CommitAsync(Of(findings: findings[10..]), Ct);

        var seen = new List<StoredRecord>();
        var after = 0L;
        while (await records.RecordsAfterAsync(after, 7, Ct) is { Count: > 0 } page)
        {
            seen.AddRange(page);
            after = page[^1].Seq;
        }

        // Positions rise; they need not be dense (SQLite spends a number on an ignored duplicate).
        Assert.True(seen.Zip(seen.Skip(1)).All(p => p.First.Seq < p.Second.Seq), "record positions rise");
        Assert.Equal(findings.Select(f => "finding:" + f.Id), seen.Select(r => r.Record.Id));
        Assert.All(seen, r => Assert.Equal(SiemRecordKind.Finding, r.Record.Kind));
        Assert.Equal(findings[3], seen[3].Record.Finding);
        Assert.Equal(seen[^1].Seq, await records.LatestRecordSeqAsync(Ct));
        Assert.Empty(await records.RecordsAfterAsync(seen[^1].Seq, 10, Ct));
    }

    protected static string Id(string name) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(name)))[..32];

    protected static ResponseAction Action(string name, string identity, ResponseActionState state, long createdAtMs) => new()
    {
        Id = Id(name),
        Kind = ResponseActionKind.Disable,
        IdentityId = identity,
        Connector = "idp",
        Rule = "disable-humans",
        Reason = "test",
        Risk = 70,
        FindingIds = ["f1", "f2"],
        State = state,
        CreatedAtMs = createdAtMs,
        TtlMinutes = 60,
        Trigger = "f2",
        DetectedAtMs = createdAtMs,
        UpdatedAtMs = createdAtMs,
    };

    protected static AuditEntry Audit(ResponseAction action, string evt, string actor = "policy") =>
        new(action.Id, evt, actor, $"{evt} {action.IdentityId}");
}
