using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.Response;
using AnomalyZT.Silo.Response.Connectors;
using AnomalyZT.Silo.State;
using static AnomalyZT.Tests.Response.Core.ResponseHarness;

namespace AnomalyZT.Tests.Response.Core;

public sealed class ResponderTests
{
    private const string Policy = """
        response:
          dry_run: false
          risk: { half_life_minutes: 60 }
          groups: { break-glass: ["root@*", "breakglass-*"] }
          allowlist: { identities: ["svc-backup@corp"], groups: [break-glass] }
          breaker: { max_actions: 5, window_minutes: 10, open_minutes: 30 }
          rules:
            - name: disable-humans
              risk_at_least: 50
              identity_class: human
              action: disable
              ttl_minutes: 60
              connectors: [idp]
        """;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Finding[] Risky(string identity, int minute = 0) =>
        [IdentityFinding(identity, "failures", minute, Severity.High), IdentityFinding(identity, "requests", minute, Severity.High)];

    [Fact]
    public async Task RiskyIdentity_IsDisabledOnce_AndTheTtlRestoresIt()
    {
        await using var h = await StartAsync(Policy);
        await h.CommitFindingsAsync(Risky("alice@corp"));
        Assert.Equal(2, await h.Responder.RunOnceAsync(Ct));

        var queued = Assert.Single(await h.ActionsAsync());
        Assert.Equal(ResponseActionState.Queued, queued.State);
        Assert.Equal(ResponseActionKind.Disable, queued.Kind);
        Assert.Equal("idp", queued.Connector);
        Assert.Equal(70, queued.Risk, 3);
        Assert.Equal(2, queued.FindingIds.Length);

        Assert.Equal(1, await h.Executor.RunOnceAsync(Ct));
        Assert.True(h.Idp.IsDisabled("alice@corp"));
        var done = Assert.Single(await h.ActionsAsync(ResponseActionState.Done));
        Assert.Equal(Start.AddMinutes(60).ToUnixTimeMilliseconds(), done.ExpiresAtMs);

        // More findings of the same offence while the disable stands: nothing new.
        await h.CommitFindingsAsync(IdentityFinding("alice@corp", "bytes_out", 10, Severity.Critical));
        await h.Responder.RunOnceAsync(Ct);
        Assert.Single(await h.ActionsAsync());

        h.Clock.Advance(TimeSpan.FromMinutes(59));
        Assert.Equal(0, await h.Executor.RunOnceAsync(Ct));
        h.Clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(1, await h.Executor.RunOnceAsync(Ct));
        Assert.False(h.Idp.IsDisabled("alice@corp"));
        Assert.Equal(ResponseActionState.Restored, Assert.Single(await h.ActionsAsync()).State);
        Assert.Equal(1, h.Idp.Applied("alice@corp"));
    }

    [Fact]
    public async Task RiskBelowTheRule_RecordsNothing_ButTheRiskIsExplained()
    {
        await using var h = await StartAsync(Policy);
        await h.CommitFindingsAsync(IdentityFinding("bob@corp", "failures", 0, Severity.Medium));
        await h.Responder.RunOnceAsync(Ct);
        Assert.Empty(await h.ActionsAsync());
        var risk = await h.Responder.RiskOfAsync("bob@corp", Ct);
        Assert.NotNull(risk);
        Assert.Equal(15, risk.ValueAt(risk.AsOfMs, h.Policy.Current.Risk), 6);
    }

    [Fact]
    public async Task GlobalDryRun_RecordsWhatWouldHappen_AndCallsNoProvider()
    {
        await using var h = await StartAsync(Policy.Replace("dry_run: false", "dry_run: true", StringComparison.Ordinal));
        await h.CommitFindingsAsync(Risky("alice@corp"));
        await h.Responder.RunOnceAsync(Ct);
        var dry = Assert.Single(await h.ActionsAsync());
        Assert.Equal(ResponseActionState.DryRun, dry.State);
        Assert.True(dry.DryRun);
        Assert.Equal(0, await h.Executor.RunOnceAsync(Ct));
        Assert.Empty(h.Idp.Calls);
    }

    [Fact]
    public async Task RuleDryRun_OverridesTheGlobalSwitch()
    {
        await using var h = await StartAsync(Policy.Replace("connectors: [idp]", "connectors: [idp]\n      dry_run: true", StringComparison.Ordinal));
        await h.CommitFindingsAsync(Risky("alice@corp"));
        await h.Responder.RunOnceAsync(Ct);
        Assert.Equal(ResponseActionState.DryRun, Assert.Single(await h.ActionsAsync()).State);
    }

    [Theory]
    [InlineData("root@corp")]
    [InlineData("breakglass-7")]
    [InlineData("svc-backup@corp")]
    public async Task AllowlistedIdentity_IsNeverTouched_AndTheMatchIsAudited(string identity)
    {
        await using var h = await StartAsync(Policy);
        await h.CommitFindingsAsync(Risky(identity));
        await h.CommitFindingsAsync(IdentityFinding(identity, "bytes_out", 20, Severity.Critical));
        await h.Responder.RunOnceAsync(Ct);
        await h.Executor.RunOnceAsync(Ct);
        Assert.Empty(await h.ActionsAsync());
        Assert.Empty(h.Idp.Calls);
        var audit = await h.Store.AuditAfterAsync(0, 100, Ct);
        Assert.Contains(audit, a => a.Event == AuditEvents.Allowlisted && a.Detail.Contains(identity, StringComparison.Ordinal));
    }

    [Fact]
    public async Task TwentyRiskyIdentitiesAtOnce_TripTheBreakerAfterN_AndTheRestWaitForApproval()
    {
        await using var h = await StartAsync(Policy);
        var findings = Enumerable.Range(0, 20).SelectMany(i => Risky($"user{i:00}@corp")).ToArray();
        await h.CommitFindingsAsync(findings);
        await h.Responder.RunOnceAsync(Ct);

        var all = await h.ActionsAsync();
        Assert.Equal(20, all.Count);
        Assert.Equal(5, all.Count(a => a.State == ResponseActionState.Queued));
        var held = all.Where(a => a.State == ResponseActionState.PendingApproval).ToList();
        Assert.Equal(15, held.Count);
        Assert.All(held, a => Assert.Equal(HoldReasons.Breaker, a.HeldBy));

        // The breaker raised one high-severity finding about the connector.
        var breaker = Assert.Single((await h.Store.QueryFindingsAsync(new FindingQuery(EntityKind.Connector, "idp", null, null, null, 10), Ct)).Items);
        Assert.Equal(Severity.High, breaker.Severity);
        Assert.Equal("breaker", breaker.Detector);

        Assert.Equal(5, await h.Executor.RunOnceAsync(Ct));
        Assert.Equal(5, h.Idp.Calls.Count);

        // A responder approves one held action: it is delivered; the rest stay held.
        var (outcome, approved, _) = await h.Commands.ApproveAsync(held[0].Id, "oncall", Ct);
        Assert.Equal(CommandOutcome.Applied, outcome);
        Assert.Equal("oncall", approved!.DecidedBy);
        Assert.Equal(1, await h.Executor.RunOnceAsync(Ct));
        Assert.True(h.Idp.IsDisabled(held[0].IdentityId));
        Assert.Equal(14, (await h.ActionsAsync(ResponseActionState.PendingApproval)).Count);

        // While the breaker is open, new offenders wait too, even after a restart (the breaker is rebuilt from the store).
        await h.RestartAsync();
        h.Clock.Advance(TimeSpan.FromMinutes(11));
        await h.CommitFindingsAsync(Risky("late@corp", 30));
        await h.Responder.RunOnceAsync(Ct);
        Assert.Equal(HoldReasons.Breaker, Assert.Single(await h.ActionsAsync(identity: "late@corp")).HeldBy);

        // Once it closes, actions flow again.
        h.Clock.Advance(TimeSpan.FromMinutes(30));
        await h.CommitFindingsAsync(Risky("later@corp", 40));
        await h.Responder.RunOnceAsync(Ct);
        Assert.Equal(ResponseActionState.Queued, Assert.Single(await h.ActionsAsync(identity: "later@corp")).State);
    }

    [Fact]
    public async Task ApprovalRule_WaitsForAResponder_RejectNeverDelivers()
    {
        await using var h = await StartAsync(Policy.Replace("connectors: [idp]", "connectors: [idp]\n      approval: true", StringComparison.Ordinal));
        await h.CommitFindingsAsync([.. Risky("alice@corp"), .. Risky("bob@corp")]);
        await h.Responder.RunOnceAsync(Ct);
        var pending = await h.ActionsAsync(ResponseActionState.PendingApproval);
        Assert.Equal(2, pending.Count);
        Assert.All(pending, a => Assert.Equal(HoldReasons.Approval, a.HeldBy));
        Assert.Equal(0, await h.Executor.RunOnceAsync(Ct));

        var alice = pending.Single(a => a.IdentityId == "alice@corp");
        var bob = pending.Single(a => a.IdentityId == "bob@corp");
        Assert.Equal(CommandOutcome.Applied, (await h.Commands.RejectAsync(alice.Id, "oncall", Ct)).Outcome);
        Assert.Equal(CommandOutcome.Applied, (await h.Commands.ApproveAsync(bob.Id, "oncall", Ct)).Outcome);
        Assert.Equal(CommandOutcome.Conflict, (await h.Commands.ApproveAsync(alice.Id, "oncall", Ct)).Outcome);
        Assert.Equal(CommandOutcome.NotFound, (await h.Commands.ApproveAsync("nope", "oncall", Ct)).Outcome);

        await h.Executor.RunOnceAsync(Ct);
        Assert.False(h.Idp.IsDisabled("alice@corp"));
        Assert.True(h.Idp.IsDisabled("bob@corp"));
        var audit = await h.Store.AuditAfterAsync(0, 100, Ct);
        Assert.Contains(audit, a => a.Event == AuditEvents.Rejected && a.Actor == "oncall" && a.ActionId == alice.Id);
    }

    [Fact]
    public async Task Undo_RestoresAheadOfTheTtl_AndADryRunCannotBeUndone()
    {
        await using var h = await StartAsync(Policy);
        await h.CommitFindingsAsync(Risky("alice@corp"));
        await h.Responder.RunOnceAsync(Ct);
        await h.Executor.RunOnceAsync(Ct);
        var done = Assert.Single(await h.ActionsAsync(ResponseActionState.Done));
        Assert.Equal(CommandOutcome.Applied, (await h.Commands.UndoAsync(done.Id, "oncall", Ct)).Outcome);
        Assert.Equal(1, await h.Executor.RunOnceAsync(Ct));
        Assert.False(h.Idp.IsDisabled("alice@corp"));
        Assert.Equal(ResponseActionState.Restored, Assert.Single(await h.ActionsAsync()).State);
        Assert.Equal(CommandOutcome.Conflict, (await h.Commands.UndoAsync(done.Id, "oncall", Ct)).Outcome);
    }

    [Fact]
    public async Task RepeatOffender_ClimbsTheLadder_OneStepPerOffence()
    {
        const string ladder = """
            response:
              dry_run: false
              rules:
                - name: ladder
                  risk_at_least: 50
                  ladder:
                    - { action: revoke_sessions, ttl_minutes: 10 }
                    - { action: disable, ttl_minutes: 30 }
                    - { action: disable, ttl_minutes: 0 }
                  connectors: [idp]
            """;
        await using var h = await StartAsync(ladder);
        await h.CommitFindingsAsync(Risky("alice@corp"));
        await h.Responder.RunOnceAsync(Ct);
        await h.Executor.RunOnceAsync(Ct);
        var first = Assert.Single(await h.ActionsAsync());
        Assert.Equal((ResponseActionKind.RevokeSessions, 0, ResponseActionState.Done), (first.Kind, first.Escalation, first.State));

        // Within the cool-down the same offence does not escalate.
        await h.CommitFindingsAsync(IdentityFinding("alice@corp", "bytes_out", 5, Severity.Critical));
        await h.Responder.RunOnceAsync(Ct);
        Assert.Single(await h.ActionsAsync());

        h.Clock.Advance(TimeSpan.FromMinutes(11));
        await h.Executor.RunOnceAsync(Ct); // cool-down over, nothing to undo at the provider
        Assert.Equal(ResponseActionState.Restored, Assert.Single(await h.ActionsAsync()).State);
        Assert.Single(h.Idp.Calls);

        await h.CommitFindingsAsync(Risky("alice@corp", 60));
        await h.Responder.RunOnceAsync(Ct);
        await h.Executor.RunOnceAsync(Ct);
        var second = (await h.ActionsAsync()).Single(a => a.Escalation == 1);
        Assert.Equal((ResponseActionKind.Disable, 30.0, ResponseActionState.Done), (second.Kind, second.TtlMinutes, second.State));

        h.Clock.Advance(TimeSpan.FromMinutes(31));
        await h.Executor.RunOnceAsync(Ct);
        await h.CommitFindingsAsync(Risky("alice@corp", 120));
        await h.Responder.RunOnceAsync(Ct);
        await h.Executor.RunOnceAsync(Ct);
        var third = (await h.ActionsAsync()).Single(a => a.Escalation == 2);
        Assert.Equal((ResponseActionKind.Disable, 0.0, 0L), (third.Kind, third.TtlMinutes, third.ExpiresAtMs));
        Assert.True(h.Idp.IsDisabled("alice@corp"));
    }

    [Fact]
    public async Task ARuleWithTwoConnectors_RecordsOneActionEach()
    {
        await using var h = await StartAsync(Policy.Replace("connectors: [idp]", "connectors: [idp, idp2]", StringComparison.Ordinal));
        await h.CommitFindingsAsync(Risky("alice@corp"));
        await h.Responder.RunOnceAsync(Ct);
        Assert.Equal(["idp", "idp2"], (await h.ActionsAsync()).Select(a => a.Connector).Order(StringComparer.Ordinal));
        await h.Executor.RunOnceAsync(Ct);
        Assert.True(h.Idp.IsDisabled("alice@corp"));
        Assert.True(h.Idp2.IsDisabled("alice@corp"));
    }

    [Fact]
    public async Task SensitiveResourceRule_MatchesOnlyFindingsThatNameSuchAResource()
    {
        var yaml = Policy.Replace("identity_class: human", "identity_class: human\n      resources: [\"s3://training-data/*\"]", StringComparison.Ordinal);
        await using var h = await StartAsync(yaml);
        await h.CommitFindingsAsync(Risky("bob@corp"));
        await h.CommitFindingsAsync(
            [.. Risky("alice@corp"), IdentityFinding("alice@corp", "new_resource", 0, Severity.Low, "first-seen", ["s3://training-data/llm/shard-9"])]);
        await h.Responder.RunOnceAsync(Ct);
        Assert.Equal("alice@corp", Assert.Single(await h.ActionsAsync()).IdentityId);
    }

    [Fact]
    public async Task ServiceIdentities_AreNotHumans()
    {
        await using var h = await StartAsync(Policy);
        await h.CommitFindingsAsync(Risky("spiffe://cluster.local/ns/ml/sa/trainer"));
        await h.Responder.RunOnceAsync(Ct);
        Assert.Empty(await h.ActionsAsync());
    }

    [Fact]
    public async Task CrashBetweenRecordAndExecute_GivesExactlyOneDeliveryAfterRestart()
    {
        await using var h = await StartAsync(Policy);
        await h.CommitFindingsAsync(Risky("alice@corp"));
        await h.Responder.RunOnceAsync(Ct);
        Assert.Single(await h.ActionsAsync(ResponseActionState.Queued));

        // The process dies here: the action is recorded, the executor never ran.
        await h.RestartAsync();
        Assert.Equal(1, await h.Executor.RunOnceAsync(Ct));
        Assert.Equal(0, await h.Executor.RunOnceAsync(Ct));
        Assert.Single(h.Idp.Calls);
        Assert.Equal(ResponseActionState.Done, Assert.Single(await h.ActionsAsync()).State);

        // The responder re-reading the same findings (cursor lost) records nothing twice.
        await h.Store.SetCursorAsync(Responder.CursorName, 0, Ct);
        await h.RestartAsync();
        await h.Responder.RunOnceAsync(Ct);
        Assert.Single(await h.ActionsAsync());
        Assert.Single(await h.Store.AuditAfterAsync(0, 100, Ct), a => a.Event == AuditEvents.Recorded);
    }

    [Fact]
    public async Task CrashAfterTheProviderAppliedIt_ButBeforeTheRecord_StillChangesTheProviderOnce()
    {
        var crashing = new CrashOnceConnector("idp");
        await using var h = await StartAsync(Policy, idp: crashing);
        await h.CommitFindingsAsync(Risky("alice@corp"));
        await h.Responder.RunOnceAsync(Ct);
        await Assert.ThrowsAsync<IOException>(() => h.Executor.RunOnceAsync(Ct));
        Assert.True(crashing.IsDisabled("alice@corp"));
        Assert.Equal(ResponseActionState.Queued, Assert.Single(await h.ActionsAsync()).State);

        await h.RestartAsync();
        await h.Executor.RunOnceAsync(Ct);
        var done = Assert.Single(await h.ActionsAsync());
        Assert.Equal(ResponseActionState.Done, done.State);
        Assert.Equal(2, crashing.Calls.Count);
        Assert.Equal(1, crashing.Changes);
        Assert.Single(await h.Store.AuditAfterAsync(0, 100, Ct), a => a.Event == AuditEvents.Delivered);
    }

    [Fact]
    public async Task TransientFailures_AreRetriedWithBackoff_PermanentOnesFailWithTheProvidersWords()
    {
        await using var h = await StartAsync(Policy);
        h.Idp.Scripted.Enqueue(new DeliveryResult(DeliveryStatus.Retry, "HTTP 503"));
        h.Idp.Scripted.Enqueue(new DeliveryResult(DeliveryStatus.Retry, "HTTP 503"));
        await h.CommitFindingsAsync(Risky("alice@corp"));
        await h.Responder.RunOnceAsync(Ct);

        await h.Executor.RunOnceAsync(Ct);
        var retrying = Assert.Single(await h.ActionsAsync());
        Assert.Equal((ResponseActionState.Queued, 1, "HTTP 503"), (retrying.State, retrying.Attempts, retrying.LastError));
        Assert.True(retrying.NextAttemptAtMs > h.Clock.Now.ToUnixTimeMilliseconds());
        Assert.Equal(0, await h.Executor.RunOnceAsync(Ct)); // backing off

        h.Clock.Advance(TimeSpan.FromSeconds(5));
        await h.Executor.RunOnceAsync(Ct);
        h.Clock.Advance(TimeSpan.FromSeconds(5));
        await h.Executor.RunOnceAsync(Ct);
        var done = Assert.Single(await h.ActionsAsync());
        Assert.Equal((ResponseActionState.Done, 3), (done.State, done.Attempts));

        h.Idp.Scripted.Enqueue(new DeliveryResult(DeliveryStatus.Permanent, "HTTP 404: user not found"));
        await h.CommitFindingsAsync(Risky("ghost@corp"));
        await h.Responder.RunOnceAsync(Ct);
        await h.Executor.RunOnceAsync(Ct);
        var failed = Assert.Single(await h.ActionsAsync(identity: "ghost@corp"));
        Assert.Equal((ResponseActionState.Failed, "HTTP 404: user not found"), (failed.State, failed.LastError));
    }

    [Fact]
    public async Task RetriesRunOut_TheActionFails()
    {
        await using var h = await StartAsync(Policy, maxAttempts: 2);
        h.Idp.Scripted.Enqueue(new DeliveryResult(DeliveryStatus.Retry, "timeout"));
        h.Idp.Scripted.Enqueue(new DeliveryResult(DeliveryStatus.Retry, "timeout"));
        await h.CommitFindingsAsync(Risky("alice@corp"));
        await h.Responder.RunOnceAsync(Ct);
        await h.Executor.RunOnceAsync(Ct);
        h.Clock.Advance(TimeSpan.FromSeconds(5));
        await h.Executor.RunOnceAsync(Ct);
        Assert.Equal(ResponseActionState.Failed, Assert.Single(await h.ActionsAsync()).State);
    }

    [Fact]
    public async Task AuditLog_IsAVerifiableHashChain_AndEditingALineBreaksIt()
    {
        await using var h = await StartAsync(Policy);
        await h.CommitFindingsAsync([.. Risky("alice@corp"), .. Risky("bob@corp")]);
        await h.Responder.RunOnceAsync(Ct);
        await h.Executor.RunOnceAsync(Ct);
        var audit = await h.Store.AuditAfterAsync(0, 100, Ct);
        Assert.Equal(4, audit.Count); // two recorded, two delivered
        Assert.Null(AuditChain.FirstBroken(audit));

        var edited = audit.Select(a => a.Seq == 2 ? a with { Detail = "nothing to see" } : a).ToList();
        Assert.Equal(2, AuditChain.FirstBroken(edited));
        Assert.Equal(3, AuditChain.FirstBroken(audit.Where(a => a.Seq != 2))); // a deleted line breaks the next one
    }

    /// <summary>Applies the change at the provider, then "crashes" before the executor can record it (once).</summary>
    private sealed class CrashOnceConnector(string name) : IIdpConnector
    {
        private readonly HashSet<string> _disabled = new(StringComparer.Ordinal);
        private bool _crashed;

        public string Name { get; } = name;

        public List<ConnectorRequest> Calls { get; } = [];

        public int Changes { get; private set; }

        public bool IsDisabled(string subject) => _disabled.Contains(subject);

        public bool Supports(ResponseActionKind kind, bool restore) => kind == ResponseActionKind.Disable;

        public Task<DeliveryResult> ExecuteAsync(ConnectorRequest request, CancellationToken ct)
        {
            Calls.Add(request);
            var changed = _disabled.Add(request.Subject);
            Changes += changed ? 1 : 0;
            if (!_crashed)
            {
                _crashed = true;
                throw new IOException("the silo died right after the provider answered");
            }

            return Task.FromResult(new DeliveryResult(changed ? DeliveryStatus.Done : DeliveryStatus.AlreadyInState, "ok"));
        }
    }
}
