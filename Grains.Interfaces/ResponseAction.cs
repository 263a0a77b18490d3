namespace AnomalyZT.Grains.Interfaces;

/// <summary>What a response does at the identity provider.</summary>
public enum ResponseActionKind : byte
{
    /// <summary>Record and report only; no call to an identity provider.</summary>
    Notify = 0,

    /// <summary>End the identity's sessions (and refresh tokens) so it must sign in again.</summary>
    RevokeSessions = 1,

    /// <summary>Disable (suspend, lock) the account; restored by enabling it.</summary>
    Disable = 2,

    /// <summary>Revoke one OAuth 2.0 token the events carried (RFC 7009).</summary>
    RevokeToken = 3,

    /// <summary>Force a fresh authentication at the next request where the provider supports it.</summary>
    RequireReauth = 4,
}

/// <summary>Where an action is in its life: recorded, delivered, in force, restored.</summary>
public enum ResponseActionState : byte
{
    /// <summary>Waiting for a responder to approve or reject it (approval mode, or held by an open breaker).</summary>
    PendingApproval = 0,

    /// <summary>Recorded in the outbox; the executor will deliver it.</summary>
    Queued = 1,

    /// <summary>Delivered: the provider confirmed it (or it was already in that state). In force until restored.</summary>
    Done = 2,

    /// <summary>The provider refused it for good, or retries ran out; <see cref="ResponseAction.LastError"/> says why.</summary>
    Failed = 3,

    /// <summary>A responder rejected it; never delivered.</summary>
    Rejected = 4,

    /// <summary>Dry run: what would have been delivered, recorded but not sent.</summary>
    DryRun = 5,

    /// <summary>The restore (TTL expiry or undo) was delivered; no longer in force.</summary>
    Restored = 6,
}

/// <summary>One response to a risky identity, as recorded in the outbox, audited and sent to the SIEM.</summary>
/// <remarks>The id is deterministic (identity, rule, escalation step, trigger), so re-processing the same findings
/// after a crash records nothing twice.</remarks>
public sealed record ResponseAction
{
    /// <summary>Deterministic id, 32 hex characters.</summary>
    public required string Id { get; init; }

    /// <summary>What is done.</summary>
    public required ResponseActionKind Kind { get; init; }

    /// <summary>The identity acted on, as the engine knows it (e.g. <c>alice@example.org</c>, a SPIFFE id).</summary>
    public required string IdentityId { get; init; }

    /// <summary>Name of the connector that delivers it (from <c>Response:Connectors</c>).</summary>
    public required string Connector { get; init; }

    /// <summary>Policy rule that decided it.</summary>
    public required string Rule { get; init; }

    /// <summary>Why, in one sentence a responder can read.</summary>
    public required string Reason { get; init; }

    /// <summary>The identity's risk when the rule matched.</summary>
    public required double Risk { get; init; }

    /// <summary>Findings that contributed most to the risk, strongest first.</summary>
    public string[] FindingIds { get; init; } = [];

    /// <summary>Where the action is.</summary>
    public required ResponseActionState State { get; init; }

    /// <summary>True when guardrails made it a dry run; it is then never delivered.</summary>
    public bool DryRun { get; init; }

    /// <summary>Step on the escalation ladder (0 = first offence).</summary>
    public int Escalation { get; init; }

    /// <summary>When it was recorded, Unix ms.</summary>
    public required long CreatedAtMs { get; init; }

    /// <summary>Minutes it stays in force once delivered before the automatic restore; 0 keeps it until undone.</summary>
    public double TtlMinutes { get; init; }

    /// <summary>When it is restored automatically, Unix ms; 0 for never (or not yet delivered).</summary>
    public long ExpiresAtMs { get; init; }

    /// <summary>The finding whose arrival made the rule match.</summary>
    public string Trigger { get; init; } = string.Empty;

    /// <summary>Why it waits, while <see cref="ResponseActionState.PendingApproval"/>: <c>approval</c> (the rule asks for
    /// it) or <c>breaker</c> (the connector's circuit breaker is open); otherwise empty.</summary>
    public string HeldBy { get; init; } = string.Empty;

    /// <summary>When the engine committed the trigger finding (wall clock, Unix ms); latency is measured from here.</summary>
    public long DetectedAtMs { get; init; }

    /// <summary>When the provider confirmed the delivery, Unix ms; 0 until then.</summary>
    public long DeliveredAtMs { get; init; }

    /// <summary>Delivery attempts so far (restores included).</summary>
    public int Attempts { get; init; }

    /// <summary>Earliest time of the next attempt, Unix ms (back-off).</summary>
    public long NextAttemptAtMs { get; init; }

    /// <summary>True once a restore has been asked for (TTL expiry or undo) and not yet delivered.</summary>
    public bool RestorePending { get; init; }

    /// <summary>The provider's last error, or an empty string.</summary>
    public string LastError { get; init; } = string.Empty;

    /// <summary>Who approved, rejected or undid it (a key name), or an empty string.</summary>
    public string DecidedBy { get; init; } = string.Empty;

    /// <summary>Last change, Unix ms.</summary>
    public required long UpdatedAtMs { get; init; }

    /// <summary>Optimistic-concurrency revision, raised by one at every stored change.</summary>
    public int Revision { get; init; }

    /// <summary>The OAuth token to revoke (only for <see cref="ResponseActionKind.RevokeToken"/>): stored apart from the
    /// record until delivered, then erased; never serialised, logged or shown.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string? Token { get; init; }

    /// <summary>True for actions with nothing to undo (ended sessions, a revoked token, a notice): their TTL is a
    /// cool-down during which the rule does not act again, and expiry calls no provider.</summary>
    public static bool IsOneShot(ResponseActionKind kind) =>
        kind is ResponseActionKind.Notify or ResponseActionKind.RevokeSessions or ResponseActionKind.RevokeToken;

    /// <summary>True while the action is in force or about to be: recorded, held for approval, delivered and not yet
    /// restored (or, for one-shot kinds, not past its cool-down), or a dry run whose would-be TTL has not run out at
    /// <paramref name="nowMs"/>.</summary>
    public bool InForce(long nowMs) => State switch
    {
        ResponseActionState.PendingApproval or ResponseActionState.Queued => true,
        ResponseActionState.Done => true,
        ResponseActionState.DryRun => ExpiresAtMs == 0 || ExpiresAtMs > nowMs,
        _ => false,
    };
}
