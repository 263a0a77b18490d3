using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Silo.Response.Connectors;

/// <summary>One call for a connector to make.</summary>
/// <param name="ActionId">The outbox id; connectors that can pass an idempotency key use it.</param>
/// <param name="Kind">What to do.</param>
/// <param name="Subject">The identity as the engine knows it; the connector maps it to its own user (see
/// <see cref="ConnectorOptions.SubjectPattern"/>).</param>
/// <param name="Restore">True to undo <paramref name="Kind"/> (enable the account again); false to apply it.</param>
/// <param name="Token">The token to revoke, for <see cref="ResponseActionKind.RevokeToken"/>; otherwise null.</param>
public sealed record ConnectorRequest(string ActionId, ResponseActionKind Kind, string Subject, bool Restore, string? Token = null);

/// <summary>How a delivery went.</summary>
public enum DeliveryStatus
{
    /// <summary>The provider applied it.</summary>
    Done,

    /// <summary>The provider was already in the asked state (a repeat after a crash): counts as done.</summary>
    AlreadyInState,

    /// <summary>A transient failure (network, timeout, 429, 5xx): retry with back-off.</summary>
    Retry,

    /// <summary>A failure retrying cannot fix (unknown user, 4xx, bad credentials): record and stop.</summary>
    Permanent,
}

/// <summary>The outcome of one delivery attempt.</summary>
/// <param name="Status">How it went.</param>
/// <param name="Detail">What the provider said, short, with no secret in it (e.g. <c>HTTP 404: user not found</c>).</param>
public readonly record struct DeliveryResult(DeliveryStatus Status, string Detail)
{
    /// <summary>True for <see cref="DeliveryStatus.Done"/> and <see cref="DeliveryStatus.AlreadyInState"/>.</summary>
    public bool Succeeded => Status is DeliveryStatus.Done or DeliveryStatus.AlreadyInState;
}

/// <summary>An identity provider's API at the response seam: SCIM, LDAP, OAuth revocation, Keycloak, Okta,
/// Microsoft Graph, a webhook, or the log-only connector.</summary>
/// <remarks>Implementations must be idempotent (applying an action twice leaves the provider as once), must never
/// throw for a provider's answer (map it to a <see cref="DeliveryResult"/>), and must never put a credential or
/// token in a <see cref="DeliveryResult.Detail"/> or a log line.</remarks>
public interface IIdpConnector
{
    /// <summary>The configured name (key under <c>Response:Connectors</c>).</summary>
    string Name { get; }

    /// <summary>True when this connector can do <paramref name="kind"/> (and undo it, when <paramref name="restore"/>).</summary>
    bool Supports(ResponseActionKind kind, bool restore);

    /// <summary>Makes the call. Cancellation is the only exception expected.</summary>
    Task<DeliveryResult> ExecuteAsync(ConnectorRequest request, CancellationToken ct);
}
