using System.Globalization;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Grains.Policy;
using AnomalyZT.Silo.Response.Connectors;
using AnomalyZT.Silo.State;

namespace AnomalyZT.Silo.Response;

/// <summary>Delivers the outbox: queued actions, restores asked for, and restores whose TTL ran out. Every outcome is a
/// compare-and-set on the stored action with an audit line, so two executors (or an executor and a responder's undo)
/// never both win; a crash after the provider's answer but before the record means one more attempt, which the
/// idempotent connectors answer with <see cref="DeliveryStatus.AlreadyInState"/>.</summary>
public sealed partial class ActionExecutor : IDisposable
{
    private const int BatchSize = 64;

    private readonly IResponseStore _store;
    private readonly ConnectorRegistry _connectors;
    private readonly ExecutorOptions _options;
    private readonly TimeProvider _time;
    private readonly ResponseMetrics _metrics;
    private readonly ILogger _logger;
    private readonly WakeSignal _wake = new();

    /// <summary>Creates the executor.</summary>
    public ActionExecutor(IResponseStore store, ConnectorRegistry connectors, ExecutorOptions options, TimeProvider time, ResponseMetrics metrics, ILogger<ActionExecutor> logger)
    {
        _store = store;
        _connectors = connectors;
        _options = options;
        _time = time;
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>Wakes the loop now.</summary>
    public void Wake() => _wake.Set();

    /// <summary>Waits for a wake-up or <paramref name="timeout"/>.</summary>
    public Task WaitAsync(TimeSpan timeout, CancellationToken ct) => _wake.WaitAsync(timeout, ct);

    /// <inheritdoc />
    public void Dispose() => _wake.Dispose();

    /// <summary>Works through everything due now; returns how many attempts were made.</summary>
    public async Task<int> RunOnceAsync(CancellationToken ct)
    {
        var attempts = 0;
        while (true)
        {
            var due = await _store.DueActionsAsync(Now(), BatchSize, ct).ConfigureAwait(false);
            if (due.Count == 0)
            {
                return attempts;
            }

            await Parallel.ForEachAsync(
                due,
                new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, _options.Concurrency), CancellationToken = ct },
                async (action, token) => await AttemptAsync(action, token).ConfigureAwait(false)).ConfigureAwait(false);
            attempts += due.Count;
            if (due.Count < BatchSize)
            {
                return attempts;
            }
        }
    }

    private async Task AttemptAsync(ResponseAction action, CancellationToken ct)
    {
        var now = Now();
        var restore = action.State == ResponseActionState.Done;
        if (restore && !action.RestorePending)
        {
            // The TTL ran out: record that a restore is due before making the call, so a crash cannot forget it.
            var asked = action with { RestorePending = true, NextAttemptAtMs = now, Revision = action.Revision + 1, UpdatedAtMs = now };
            if (!await _store.UpdateActionAsync(asked, action.Revision, new AuditEntry(action.Id, AuditEvents.RestoreRequested, Actors.Executor, "TTL ran out"), ct)
                .ConfigureAwait(false))
            {
                return;
            }

            action = asked;
        }

        DeliveryResult result;
        if (restore && ResponseAction.IsOneShot(action.Kind))
        {
            result = new DeliveryResult(DeliveryStatus.Done, "cool-down over; nothing to undo");
        }
        else if (!_connectors.TryGet(action.Connector, out var connector))
        {
            result = new DeliveryResult(DeliveryStatus.Permanent, $"connector '{action.Connector}' is not configured");
        }
        else
        {
            result = await connector.ExecuteAsync(new ConnectorRequest(action.Id, action.Kind, action.IdentityId, restore, action.Token), ct).ConfigureAwait(false);
        }

        await RecordAsync(action, restore, result, ct).ConfigureAwait(false);
    }

    private async Task RecordAsync(ResponseAction action, bool restore, DeliveryResult result, CancellationToken ct)
    {
        var now = Now();
        var attempts = action.Attempts + 1;
        ResponseAction next;
        AuditEntry audit;
        if (result.Succeeded)
        {
            if (restore)
            {
                next = action with { State = ResponseActionState.Restored, RestorePending = false, LastError = string.Empty };
                audit = new AuditEntry(action.Id, AuditEvents.Restored, Actors.Executor, result.Detail);
            }
            else
            {
                var expires = action.TtlMinutes > 0 ? now + (long)(action.TtlMinutes * 60_000) : 0;
                next = action with { State = ResponseActionState.Done, ExpiresAtMs = expires, DeliveredAtMs = now, Token = null, LastError = string.Empty };
                audit = new AuditEntry(action.Id, AuditEvents.Delivered, Actors.Executor, result.Detail);
            }

            _metrics.Delivered(action.Connector, restore ? -1 : now - action.DetectedAtMs);
        }
        else if (result.Status == DeliveryStatus.Retry && attempts < _options.MaxAttempts)
        {
            next = action with { NextAttemptAtMs = now + (long)Backoff(attempts).TotalMilliseconds, LastError = result.Detail };
            audit = new AuditEntry(action.Id, AuditEvents.Retrying, Actors.Executor, Invariant($"attempt {attempts} of {_options.MaxAttempts}: {result.Detail}"));
            _metrics.Retried(action.Connector);
        }
        else if (restore)
        {
            // The account stays disabled: say so loudly rather than retry forever.
            next = action with { RestorePending = false, ExpiresAtMs = 0, LastError = "restore failed: " + result.Detail };
            audit = new AuditEntry(action.Id, AuditEvents.RestoreFailed, Actors.Executor, result.Detail);
            _metrics.Failed(action.Connector);
            LogRestoreFailed(action.Id, action.IdentityId, action.Connector, result.Detail);
        }
        else
        {
            next = action with { State = ResponseActionState.Failed, Token = null, LastError = result.Detail };
            audit = new AuditEntry(action.Id, AuditEvents.Failed, Actors.Executor, Invariant($"after {attempts} attempt(s): {result.Detail}"));
            _metrics.Failed(action.Connector);
            LogFailed(action.Id, action.IdentityId, action.Connector, result.Detail);
        }

        next = next with { Attempts = attempts, Revision = action.Revision + 1, UpdatedAtMs = now };
        if (await _store.UpdateActionAsync(next, action.Revision, audit, ct).ConfigureAwait(false))
        {
            return;
        }

        // Someone changed it while the call was in flight: a responder cancelled a queued action. If the provider
        // applied it anyway, keep that on record and restore it.
        var current = await _store.GetActionAsync(action.Id, ct).ConfigureAwait(false);
        if (current is { State: ResponseActionState.Rejected } && !restore && result.Succeeded)
        {
            var undo = current with
            {
                State = ResponseActionState.Done, RestorePending = true, NextAttemptAtMs = now, DeliveredAtMs = now, Token = null,
                Attempts = attempts, Revision = current.Revision + 1, UpdatedAtMs = now,
            };
            await _store.UpdateActionAsync(undo, current.Revision,
                new AuditEntry(action.Id, AuditEvents.RestoreRequested, Actors.Executor, "delivered while being cancelled; restoring"), ct).ConfigureAwait(false);
            Wake();
        }
    }

    private TimeSpan Backoff(int attempts)
    {
        var exponential = _options.BaseBackoff.TotalMilliseconds * Math.Pow(2, Math.Min(attempts - 1, 20));
        var capped = Math.Min(exponential, _options.MaxBackoff.TotalMilliseconds);
        // Full jitter on the upper half, so retries of many actions spread out.
        return TimeSpan.FromMilliseconds((capped / 2) + (Random.Shared.NextDouble() * capped / 2));
    }

    private long Now() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    [LoggerMessage(EventId = 4101, Level = LogLevel.Warning, Message = "Action {Id} on {Identity} via {Connector} failed: {Detail}")]
    private partial void LogFailed(string id, string identity, string connector, string detail);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Error, Message = "Restore of action {Id} on {Identity} via {Connector} failed; restore it by hand: {Detail}")]
    private partial void LogRestoreFailed(string id, string identity, string connector, string detail);
}
