using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Grains.Policy;
using AnomalyZT.Grains.Risk;
using AnomalyZT.Silo.Serialization;
using AnomalyZT.Silo.State;

namespace AnomalyZT.Silo.Response;

/// <summary>Turns committed findings into risk and risk into recorded actions. It follows the findings with a durable
/// cursor and commits each batch (cursor, risks, actions, audit) in one transaction, so after a crash it resumes
/// where it stopped and, because action ids are deterministic, records nothing twice.</summary>
/// <remarks>One instance per silo; <see cref="RunOnceAsync"/> is not re-entrant (the hosted loop serialises it).</remarks>
public sealed partial class Responder : IDisposable
{
    /// <summary>The responder's cursor over the findings.</summary>
    public const string CursorName = "responder";

    /// <summary>Cool-down of a one-shot action (revoke_sessions, revoke_token, notify) whose rule sets no TTL.</summary>
    public const double OneShotCooldownMinutes = 60;

    private const int BatchSize = 500;
    private const int MaxDetectedStamps = 100_000;

    private readonly IResponseStore _store;
    private readonly ResponsePolicySource _policy;
    private readonly ConnectorRegistry _connectors;
    private readonly TimeProvider _time;
    private readonly ResponseMetrics _metrics;
    private readonly ILogger _logger;
    private readonly TokenVault? _tokens;
    private readonly Dictionary<string, IdentityRisk> _risks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ConnectorBreaker> _breakers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _detectedAt = new(StringComparer.Ordinal);
    private readonly WakeSignal _wake = new();
    private long? _position;

    /// <summary>Creates the responder; nothing is read until <see cref="RunOnceAsync"/>.</summary>
    public Responder(
        IResponseStore store, ResponsePolicySource policy, ConnectorRegistry connectors, TimeProvider time, ResponseMetrics metrics,
        ILogger<Responder> logger, TokenVault? tokens = null)
    {
        _tokens = tokens;
        _store = store;
        _policy = policy;
        _connectors = connectors;
        _time = time;
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>Raised after a batch recorded actions the executor should deliver.</summary>
    public event Action? ActionsRecorded;

    /// <summary>Notes that findings were committed (for latency) and wakes the loop. Called by the runtime.</summary>
    public ValueTask OnFindingsCommittedAsync(IReadOnlyList<Finding> findings)
    {
        ArgumentNullException.ThrowIfNull(findings);
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        if (_detectedAt.Count < MaxDetectedStamps)
        {
            foreach (var f in findings)
            {
                _detectedAt.TryAdd(f.Id, now);
            }
        }

        Wake();
        return ValueTask.CompletedTask;
    }

    /// <summary>Wakes the loop now.</summary>
    public void Wake() => _wake.Set();

    /// <summary>Waits for a wake-up or <paramref name="timeout"/>.</summary>
    public Task WaitAsync(TimeSpan timeout, CancellationToken ct) => _wake.WaitAsync(timeout, ct);

    /// <inheritdoc />
    public void Dispose() => _wake.Dispose();

    /// <summary>Forgets every cache (cursor, risks, breakers): the next run re-reads them from the store. Called when this
    /// silo becomes the cluster's leader.</summary>
    public void Reset()
    {
        _position = null;
        _risks.Clear();
        _breakers.Clear();
    }

    /// <summary>Processes every committed finding not yet processed; returns how many it read.</summary>
    public async Task<int> RunOnceAsync(CancellationToken ct)
    {
        _position ??= await InitializeAsync(ct).ConfigureAwait(false);
        var total = 0;
        while (true)
        {
            var batch = await _store.FindingsAfterAsync(_position.Value, BatchSize, ct).ConfigureAwait(false);
            if (batch.Count == 0)
            {
                return total;
            }

            await ProcessAsync(batch, ct).ConfigureAwait(false);
            _position = batch[^1].Seq;
            total += batch.Count;
        }
    }

    /// <summary>The risk of <paramref name="identityId"/> as the responder holds it (from the store when not cached), or null.</summary>
    public async Task<IdentityRisk?> RiskOfAsync(string identityId, CancellationToken ct)
    {
        var record = await _store.LoadRiskAsync(identityId, ct).ConfigureAwait(false);
        return record is null ? null : FromRecord(record);
    }

    private async Task<long> InitializeAsync(CancellationToken ct)
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var settings = _policy.Current.Breaker;
        var since = now - (Math.Max(settings.WindowMinutes, settings.OpenMinutes) * 60_000L);
        foreach (var a in await _store.ActionsSinceAsync(since, ct).ConfigureAwait(false))
        {
            if (a.DryRun || a.Kind == ResponseActionKind.Notify)
            {
                continue;
            }

            var breaker = BreakerOf(a.Connector);
            if (a.HeldBy == HoldReasons.Breaker)
            {
                breaker.RememberOpen(a.CreatedAtMs + (settings.OpenMinutes * 60_000L));
            }
            else if (a.HeldBy.Length == 0 && a.CreatedAtMs >= now - (settings.WindowMinutes * 60_000L))
            {
                breaker.Remember(a.CreatedAtMs);
            }
        }

        return await _store.CursorAsync(CursorName, ct).ConfigureAwait(false);
    }

    private async Task ProcessAsync(IReadOnlyList<StoredFinding> batch, CancellationToken ct)
    {
        var policy = _policy.Current;
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var changed = new Dictionary<string, IdentityRisk>(StringComparer.Ordinal);
        var actions = new List<ResponseAction>();
        var findings = new List<Finding>();
        var audit = new List<AuditEntry>();
        var existingByIdentity = new Dictionary<string, List<ResponseAction>>(StringComparer.Ordinal);
        var riskChanges = new List<Siem.RiskChange>();
        foreach (var stored in batch)
        {
            var f = stored.Finding;
            var detectedAt = _detectedAt.TryRemove(f.Id, out var stamp) ? stamp : now;
            if (f.EntityKind != EntityKind.Identity)
            {
                continue;
            }

            var risk = await LoadAsync(f.EntityId, ct).ConfigureAwait(false);
            var before = risk.ValueAt(Math.Max(risk.AsOfMs, f.BucketStartMs + (f.BucketSeconds * 1000L)), policy.Risk);
            if (!risk.Add(f, policy.Risk))
            {
                continue;
            }

            changed[f.EntityId] = risk;
            var value = risk.ValueAt(risk.AsOfMs, policy.Risk);
            riskChanges.Add(new Siem.RiskChange(f.EntityId, Math.Round(before, 3), Math.Round(value, 3), risk.AsOfMs, f.Id));
            var shares = risk.Explain(risk.AsOfMs, policy.Risk);
            var rules = policy.Matching(f.EntityId, value, shares).ToList();
            if (rules.Count == 0)
            {
                continue;
            }

            if (policy.AllowlistedBy(f.EntityId) is { } protectedBy)
            {
                foreach (var rule in rules)
                {
                    audit.Add(new AuditEntry(ActionId(f.EntityId, rule.Name, "-", ResponseActionKind.Notify, 0, f.Id), AuditEvents.Allowlisted, Actors.Policy,
                        Invariant($"rule {rule.Name} matched {f.EntityId} at risk {value:0.0}; never acted on ({protectedBy})")));
                    _metrics.Allowlisted();
                }

                continue;
            }

            if (!existingByIdentity.TryGetValue(f.EntityId, out var existing))
            {
                var since = now - (policy.LadderWindowDays * 86_400_000L);
                existing = [.. await _store.ActionsOfIdentityAsync(f.EntityId, since, ct).ConfigureAwait(false)];
                existingByIdentity[f.EntityId] = existing;
            }

            foreach (var rule in rules)
            {
                Decide(policy, rule, f, detectedAt, value, shares, existing, now, actions, findings, audit);
            }
        }

        var risks = changed.Values.Select(r => new RiskRecord(r.IdentityId, r.AsOfMs,
            JsonSerializer.Serialize(r.Contributions.ToList(), AnomalyJsonContext.Default.ListRiskContribution))).ToList();
        var recorded = await _store.CommitResponseAsync(new ResponseCommit(CursorName, batch[^1].Seq, risks, actions, findings, audit, riskChanges), ct)
            .ConfigureAwait(false);
        foreach (var a in actions)
        {
            if (recorded.Contains(a.Id))
            {
                _metrics.Recorded(a);
                LogRecorded(a.Id, a.Kind, a.IdentityId, a.Connector, a.State, a.Rule);
            }
        }

        if (recorded.Count > 0)
        {
            ActionsRecorded?.Invoke();
        }
    }

    private void Decide(
        ResponsePolicy policy, ResponseRule rule, Finding trigger, long detectedAt, double risk, RiskShare[] shares,
        List<ResponseAction> existing, long now, List<ResponseAction> actions, List<Finding> findings, List<AuditEntry> audit)
    {
        var dryRun = rule.DryRun ?? policy.DryRun;
        if (existing.Exists(a => a.Rule == rule.Name && a.DryRun == dryRun && a.InForce(now)))
        {
            // Same offence: the rule already acted and that action still stands; only a new offence climbs the ladder.
            _metrics.AlreadyInForce();
            return;
        }

        var offences = existing.Where(a => a.Rule == rule.Name && a.State != ResponseActionState.Rejected && a.DryRun == dryRun)
            .Select(a => a.Trigger).Distinct(StringComparer.Ordinal).Count();
        var stepIndex = Math.Clamp(offences, 0, rule.Ladder.Count - 1);
        var step = rule.Ladder[stepIndex];
        var top = shares.Where(s => s.Current > 0).Take(5).ToArray();
        var why = Invariant($"risk {risk:0.0} ≥ {rule.RiskAtLeast:0.#} ({string.Join(", ", top.Select(s => $"{s.Contribution.Detector}:{s.Contribution.Feature} {s.Current:0.0}"))})");
        IEnumerable<string> targets = step.Action == ResponseActionKind.Notify || rule.Connectors.Count == 0 ? ["-"] : rule.Connectors;
        foreach (var connector in targets)
        {
            if (existing.Exists(a => a.Connector == connector && a.Kind == step.Action && a.InForce(now)))
            {
                _metrics.AlreadyInForce();
                continue;
            }

            var state = ResponseActionState.Queued;
            var heldBy = string.Empty;
            if (dryRun)
            {
                state = ResponseActionState.DryRun;
            }
            else if (step.Action == ResponseActionKind.Notify)
            {
                state = ResponseActionState.Done;
            }
            else if (rule.Approval)
            {
                state = ResponseActionState.PendingApproval;
                heldBy = HoldReasons.Approval;
            }
            else if (!BreakerOf(connector).TryAdmit(now, policy.Breaker, out var tripped))
            {
                state = ResponseActionState.PendingApproval;
                heldBy = HoldReasons.Breaker;
                if (tripped)
                {
                    findings.Add(BreakerFinding(connector, policy.Breaker, now));
                    _metrics.BreakerOpened(connector);
                    LogBreakerOpen(connector, policy.Breaker.MaxActions, policy.Breaker.WindowMinutes);
                }
            }

            // One-shot actions have nothing to undo; their TTL is a cool-down, an hour when none is set.
            var ttlMinutes = step.TtlMinutes == 0 && ResponseAction.IsOneShot(step.Action) ? OneShotCooldownMinutes : step.TtlMinutes;
            var ttlMs = (long)(ttlMinutes * 60_000);
            string? token = null;
            var lastError = string.Empty;
            if (step.Action == ResponseActionKind.RevokeToken && state is ResponseActionState.Queued or ResponseActionState.PendingApproval)
            {
                token = _tokens?.Latest(trigger.EntityId);
                if (token is null)
                {
                    state = ResponseActionState.Failed;
                    heldBy = string.Empty;
                    lastError = $"no access token of {trigger.EntityId} was seen in the last {TokenVault.MaxAge.TotalHours:0} h (tokens are kept in memory only; ship them in the generic 'token' field)";
                }
            }

            var action = new ResponseAction
            {
                Id = ActionId(trigger.EntityId, rule.Name, connector, step.Action, stepIndex, trigger.Id),
                Kind = step.Action,
                IdentityId = trigger.EntityId,
                Connector = connector,
                Rule = rule.Name,
                Reason = why,
                Risk = Math.Round(risk, 3),
                FindingIds = [.. top.Select(s => s.Contribution.FindingId)],
                State = state,
                DryRun = dryRun,
                Escalation = stepIndex,
                TtlMinutes = ttlMinutes,
                // A dry run is "in force" for its would-be TTL (a day when it has none), so it is not recorded again and again.
                ExpiresAtMs = dryRun ? now + (ttlMs > 0 ? ttlMs : 86_400_000L) : 0,
                Trigger = trigger.Id,
                HeldBy = heldBy,
                DetectedAtMs = detectedAt,
                CreatedAtMs = now,
                UpdatedAtMs = now,
                NextAttemptAtMs = now,
                Token = token,
                LastError = lastError,
            };
            actions.Add(action);
            existing.Add(action);
            var detail = state switch
            {
                ResponseActionState.DryRun => "dry run: " + why,
                ResponseActionState.PendingApproval when heldBy == HoldReasons.Breaker => $"held for approval: the {connector} breaker is open; " + why,
                ResponseActionState.PendingApproval => "awaiting approval: " + why,
                ResponseActionState.Failed => lastError,
                _ => why,
            };
            audit.Add(new AuditEntry(action.Id, AuditEvents.Recorded, Actors.Policy, detail));
        }
    }

    private Finding BreakerFinding(string connector, BreakerSettings settings, long now)
    {
        const string detector = "breaker";
        return new Finding
        {
            Id = Finding.ComputeId(EntityKind.Connector, connector, detector, "actions", now),
            EntityKind = EntityKind.Connector,
            EntityId = connector,
            Detector = detector,
            Feature = "actions",
            BucketStartMs = now - (settings.WindowMinutes * 60_000L),
            BucketSeconds = settings.WindowMinutes * 60,
            Observed = settings.MaxActions + 1,
            Expected = settings.MaxActions,
            Lower = 0,
            Upper = settings.MaxActions,
            Score = settings.MaxActions + 1,
            PValue = double.NaN,
            Severity = Severity.High,
            ConfigVersion = "response",
            BaselineCount = 0,
            Explanation = Invariant(
                $"circuit breaker of connector {connector} opened: more than {settings.MaxActions} actions in {settings.WindowMinutes} minutes; further actions wait for a responder's approval for {settings.OpenMinutes} minutes"),
        };
    }

    private ConnectorBreaker BreakerOf(string connector)
    {
        if (!_breakers.TryGetValue(connector, out var breaker))
        {
            breaker = new ConnectorBreaker();
            _breakers[connector] = breaker;
        }

        return breaker;
    }

    private async Task<IdentityRisk> LoadAsync(string identityId, CancellationToken ct)
    {
        if (_risks.TryGetValue(identityId, out var risk))
        {
            return risk;
        }

        var record = await _store.LoadRiskAsync(identityId, ct).ConfigureAwait(false);
        risk = record is null ? new IdentityRisk(identityId) : FromRecord(record);
        if (_risks.Count >= MaxDetectedStamps)
        {
            _risks.Clear(); // a cache: the store has them all
        }

        _risks[identityId] = risk;
        return risk;
    }

    private static IdentityRisk FromRecord(RiskRecord record)
    {
        var risk = new IdentityRisk(record.IdentityId);
        foreach (var c in JsonSerializer.Deserialize(record.Json, AnomalyJsonContext.Default.ListRiskContribution) ?? [])
        {
            risk.Restore(c);
        }

        return risk;
    }

    /// <summary>The deterministic id of an action: the first 16 bytes of SHA-256 over its defining fields, hex.</summary>
    internal static string ActionId(string identity, string rule, string connector, ResponseActionKind kind, int step, string trigger)
    {
        var text = Invariant($"{identity}\u001f{rule}\u001f{connector}\u001f{(int)kind}\u001f{step}\u001f{trigger}");
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text))[..16]);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Recorded action {Id}: {Kind} {Identity} via {Connector} ({State}) by rule {Rule}")]
    private partial void LogRecorded(string id, ResponseActionKind kind, string identity, string connector, ResponseActionState state, string rule);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "Circuit breaker of connector {Connector} opened: more than {Max} actions in {Window} minutes; further actions wait for approval")]
    private partial void LogBreakerOpen(string connector, int max, int window);
}

/// <summary>Why an action waits.</summary>
public static class HoldReasons
{
    /// <summary>The rule asks for approval.</summary>
    public const string Approval = "approval";

    /// <summary>The connector's breaker is open.</summary>
    public const string Breaker = "breaker";
}

/// <summary>Audit event names.</summary>
public static class AuditEvents
{
    /// <summary>The policy recorded an action.</summary>
    public const string Recorded = "recorded";

    /// <summary>A rule matched an allowlisted identity; nothing was done.</summary>
    public const string Allowlisted = "allowlisted";

    /// <summary>The provider confirmed the action.</summary>
    public const string Delivered = "delivered";

    /// <summary>A delivery attempt failed and will be retried.</summary>
    public const string Retrying = "retrying";

    /// <summary>The action failed for good.</summary>
    public const string Failed = "failed";

    /// <summary>The TTL ran out or a responder undid it: a restore is due.</summary>
    public const string RestoreRequested = "restore-requested";

    /// <summary>The provider confirmed the restore.</summary>
    public const string Restored = "restored";

    /// <summary>The restore failed for good; a person must restore by hand.</summary>
    public const string RestoreFailed = "restore-failed";

    /// <summary>A responder approved it.</summary>
    public const string Approved = "approved";

    /// <summary>A responder rejected it.</summary>
    public const string Rejected = "rejected";
}

/// <summary>Who did something, in the audit log (besides API key names).</summary>
public static class Actors
{
    /// <summary>The response policy.</summary>
    public const string Policy = "policy";

    /// <summary>The outbox executor.</summary>
    public const string Executor = "executor";
}
