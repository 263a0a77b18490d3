using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Silo.State;

/// <summary>A finding with its position in the store's append order, for consumers that follow the findings with a
/// durable cursor (the responder, SIEM sinks).</summary>
/// <param name="Seq">Position; increases with every stored finding.</param>
/// <param name="Finding">The finding.</param>
public sealed record StoredFinding(long Seq, Finding Finding);

/// <summary>One line for the audit log.</summary>
/// <param name="ActionId">The action it is about.</param>
/// <param name="Event">What happened: <c>recorded</c>, <c>delivered</c>, <c>failed</c>, <c>approved</c>, …</param>
/// <param name="Actor">Who: <c>policy</c>, <c>executor</c>, or the API key name of a responder.</param>
/// <param name="Detail">One line, no secrets.</param>
public sealed record AuditEntry(string ActionId, string Event, string Actor, string Detail);

/// <summary>A stored audit line. Each line's hash covers its content and the previous line's hash, so the log can be
/// verified offline (<see cref="AuditChain"/>).</summary>
/// <param name="Seq">Position, from 1.</param>
/// <param name="AtMs">When, Unix ms.</param>
/// <param name="ActionId">The action.</param>
/// <param name="Event">What happened.</param>
/// <param name="Actor">Who.</param>
/// <param name="Detail">One line.</param>
/// <param name="ActionJson">The action as it was after the event.</param>
/// <param name="PrevHash">Hash of the previous line (64 zeros for the first).</param>
/// <param name="Hash">SHA-256 hex of this line.</param>
public sealed record AuditRecord(long Seq, long AtMs, string ActionId, string Event, string Actor, string Detail, string ActionJson, string PrevHash, string Hash);

/// <summary>The responder's state of one identity: its risk contributions, serialised.</summary>
/// <param name="IdentityId">The identity.</param>
/// <param name="AsOfMs">Newest contribution time.</param>
/// <param name="Json">The contributions.</param>
public sealed record RiskRecord(string IdentityId, long AsOfMs, string Json);

/// <summary>What the responder commits for one batch of findings, in one transaction: its cursor, the risks it
/// changed, the actions it decided (ids already stored are ignored, so re-processing after a crash records nothing
/// twice), guardrail findings and the audit lines of the new actions.</summary>
/// <param name="Cursor">Consumer name.</param>
/// <param name="Position">Last finding sequence the batch covers.</param>
/// <param name="Risks">Risk states to upsert.</param>
/// <param name="Actions">New actions.</param>
/// <param name="Findings">Findings the guardrails raised (e.g. an open breaker).</param>
/// <param name="Audit">Audit lines (lines of actions that were already stored are dropped).</param>
/// <param name="RiskChanges">Risk changes to publish as SIEM records.</param>
public sealed record ResponseCommit(
    string Cursor,
    long Position,
    IReadOnlyList<RiskRecord> Risks,
    IReadOnlyList<ResponseAction> Actions,
    IReadOnlyList<Finding> Findings,
    IReadOnlyList<AuditEntry> Audit,
    IReadOnlyList<Siem.RiskChange>? RiskChanges = null);

/// <summary>Filters of an actions query; null matches everything.</summary>
/// <param name="State">Only actions in this state.</param>
/// <param name="IdentityId">Only actions on this identity.</param>
/// <param name="AfterCreatedMs">Paging: only actions created after this (with <paramref name="AfterId"/> as tie-break).</param>
/// <param name="AfterId">Paging tie-break.</param>
/// <param name="Limit">Most actions returned, 1..1000.</param>
public sealed record ActionQuery(ResponseActionState? State, string? IdentityId, long AfterCreatedMs, string AfterId, int Limit);

/// <summary>Durable response state: the outbox of actions, the hash-chained audit log, risk per identity and
/// consumer cursors over the findings.</summary>
public interface IResponseStore
{
    /// <summary>Up to <paramref name="limit"/> findings stored after position <paramref name="afterSeq"/>, in order.</summary>
    Task<IReadOnlyList<StoredFinding>> FindingsAfterAsync(long afterSeq, int limit, CancellationToken ct);

    /// <summary>The position of consumer <paramref name="name"/>; 0 when it never committed one.</summary>
    Task<long> CursorAsync(string name, CancellationToken ct);

    /// <summary>Sets the position of consumer <paramref name="name"/>.</summary>
    Task SetCursorAsync(string name, long position, CancellationToken ct);

    /// <summary>Commits a responder batch in one transaction; returns the ids of the actions newly recorded.</summary>
    Task<IReadOnlyList<string>> CommitResponseAsync(ResponseCommit commit, CancellationToken ct);

    /// <summary>Replaces an action if its stored revision is still <paramref name="expectedRevision"/> (the new record
    /// carries revision + 1), with an audit line, in one transaction. False when someone changed it first.</summary>
    Task<bool> UpdateActionAsync(ResponseAction updated, int expectedRevision, AuditEntry audit, CancellationToken ct);

    /// <summary>One action (with its token, if it still has one), or null.</summary>
    Task<ResponseAction?> GetActionAsync(string id, CancellationToken ct);

    /// <summary>Actions matching <paramref name="query"/>, oldest first (no tokens).</summary>
    Task<IReadOnlyList<ResponseAction>> QueryActionsAsync(ActionQuery query, CancellationToken ct);

    /// <summary>Actions the executor must work on at <paramref name="nowMs"/>: queued and due, restores asked for, and
    /// delivered ones whose TTL ran out. With tokens.</summary>
    Task<IReadOnlyList<ResponseAction>> DueActionsAsync(long nowMs, int limit, CancellationToken ct);

    /// <summary>Every action on <paramref name="identityId"/> created at or after <paramref name="sinceMs"/>.</summary>
    Task<IReadOnlyList<ResponseAction>> ActionsOfIdentityAsync(string identityId, long sinceMs, CancellationToken ct);

    /// <summary>Every action created at or after <paramref name="sinceMs"/> (to rebuild breakers after a restart).</summary>
    Task<IReadOnlyList<ResponseAction>> ActionsSinceAsync(long sinceMs, CancellationToken ct);

    /// <summary>Counts of actions by state.</summary>
    Task<IReadOnlyDictionary<ResponseActionState, long>> CountActionsAsync(CancellationToken ct);

    /// <summary>The stored risk of one identity, or null.</summary>
    Task<RiskRecord?> LoadRiskAsync(string identityId, CancellationToken ct);

    /// <summary>Up to <paramref name="limit"/> audit lines after <paramref name="afterSeq"/>, in order.</summary>
    Task<IReadOnlyList<AuditRecord>> AuditAfterAsync(long afterSeq, int limit, CancellationToken ct);
}

/// <summary>A SIEM record with its position in the record stream.</summary>
/// <param name="Seq">Position; increases with every record.</param>
/// <param name="Record">The record.</param>
public sealed record StoredRecord(long Seq, Siem.SiemRecord Record);

/// <summary>The SIEM record stream: every finding, action event and risk change, appended in the transaction that made
/// it, in one order that sinks follow with durable cursors.</summary>
public interface IRecordStore
{
    /// <summary>Up to <paramref name="limit"/> (1..1000) records after position <paramref name="afterSeq"/>, in order.</summary>
    Task<IReadOnlyList<StoredRecord>> RecordsAfterAsync(long afterSeq, int limit, CancellationToken ct);

    /// <summary>The newest record position (0 when there are none).</summary>
    Task<long> LatestRecordSeqAsync(CancellationToken ct);

    /// <summary>The position of consumer <paramref name="name"/>; 0 when it never committed one.</summary>
    Task<long> CursorAsync(string name, CancellationToken ct);

    /// <summary>Sets the position of consumer <paramref name="name"/>.</summary>
    Task SetCursorAsync(string name, long position, CancellationToken ct);
}
