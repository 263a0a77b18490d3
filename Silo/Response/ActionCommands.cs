using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.State;

namespace AnomalyZT.Silo.Response;

/// <summary>Outcome of a responder's decision.</summary>
public enum CommandOutcome
{
    /// <summary>Applied.</summary>
    Applied,

    /// <summary>No such action.</summary>
    NotFound,

    /// <summary>The action is not in a state the decision applies to.</summary>
    Conflict,
}

/// <summary>A responder's decisions on the outbox: approve, reject, undo. Each is a compare-and-set with an audit line
/// naming who decided; a race with the executor is retried once against the fresh state.</summary>
public sealed class ActionCommands(IResponseStore store, ActionExecutor executor, TimeProvider time)
{
    /// <summary>Approves an action waiting for approval (rule approval or open breaker): it is delivered next.</summary>
    public Task<(CommandOutcome Outcome, ResponseAction? Action, string Message)> ApproveAsync(string id, string actor, CancellationToken ct) =>
        ApplyAsync(id, a => a.State == ResponseActionState.PendingApproval
            ? (a with { State = ResponseActionState.Queued, HeldBy = string.Empty, NextAttemptAtMs = Now(), DecidedBy = actor },
                new AuditEntry(a.Id, AuditEvents.Approved, actor, "approved (was held by " + a.HeldBy + ")"), null)
            : (null, null, $"action {a.Id} is {a.State}; only a PendingApproval action can be approved"), ct);

    /// <summary>Rejects an action that was not delivered yet (waiting for approval, or queued): it never will be.</summary>
    public Task<(CommandOutcome Outcome, ResponseAction? Action, string Message)> RejectAsync(string id, string actor, CancellationToken ct) =>
        ApplyAsync(id, a => a.State is ResponseActionState.PendingApproval or ResponseActionState.Queued
            ? (a with { State = ResponseActionState.Rejected, HeldBy = string.Empty, Token = null, DecidedBy = actor },
                new AuditEntry(a.Id, AuditEvents.Rejected, actor, "rejected while " + a.State), null)
            : (null, null, $"action {a.Id} is {a.State}; only a PendingApproval or Queued action can be rejected (undo a Done one)"), ct);

    /// <summary>Undoes a delivered action now, ahead of its TTL.</summary>
    public Task<(CommandOutcome Outcome, ResponseAction? Action, string Message)> UndoAsync(string id, string actor, CancellationToken ct) =>
        ApplyAsync(id, a => a is { State: ResponseActionState.Done, RestorePending: false } && !ResponseAction.IsOneShot(a.Kind)
            ? (a with { RestorePending = true, NextAttemptAtMs = Now(), DecidedBy = actor },
                new AuditEntry(a.Id, AuditEvents.RestoreRequested, actor, "undo asked by a responder"), null)
            : (null, null, $"action {a.Id} is {a.State}{(a.RestorePending ? " with a restore pending" : string.Empty)} ({a.Kind}); only a delivered disable or require_reauth can be undone"), ct);

    private async Task<(CommandOutcome, ResponseAction?, string)> ApplyAsync(
        string id, Func<ResponseAction, (ResponseAction? Next, AuditEntry? Audit, string? Refusal)> decide, CancellationToken ct)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var current = await store.GetActionAsync(id, ct).ConfigureAwait(false);
            if (current is null)
            {
                return (CommandOutcome.NotFound, null, $"no action has id '{id}'");
            }

            var (next, audit, refusal) = decide(current);
            if (next is null || audit is null)
            {
                return (CommandOutcome.Conflict, current, refusal ?? "not applicable");
            }

            next = next with { Revision = current.Revision + 1, UpdatedAtMs = Now() };
            if (await store.UpdateActionAsync(next, current.Revision, audit, ct).ConfigureAwait(false))
            {
                executor.Wake();
                return (CommandOutcome.Applied, next with { Token = null }, "ok");
            }
        }

        return (CommandOutcome.Conflict, null, $"action {id} kept changing; try again");
    }

    private long Now() => time.GetUtcNow().ToUnixTimeMilliseconds();
}
