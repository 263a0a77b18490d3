using System.Net;
using System.Text.Json;
using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Silo.Response.Connectors;

/// <summary>Okta through its management API (<c>{BaseUrl}/api/v1/users/…</c>) with an API token
/// (<c>Authorization: SSWS {token}</c>).</summary>
/// <remarks>
/// <para>The user is read with <c>GET /api/v1/users/{login}</c> (login URL-encoded); logins with <c>/</c> or <c>?</c>,
/// which Okta documents as fetchable only by id, are found with <c>GET /api/v1/users?search=profile.login eq "…"</c>.</para>
/// <para>Mapping: <see cref="ResponseActionKind.RevokeSessions"/> is <c>DELETE /api/v1/users/{id}/sessions?oauthTokens=true</c>
/// (sessions and the OIDC/OAuth refresh and access tokens issued to the user); <see cref="ResponseActionKind.RequireReauth"/>
/// is the same call without <c>oauthTokens</c> (sessions only: the user must authenticate again at the next operation).
/// <see cref="ResponseActionKind.Disable"/> is <c>POST /api/v1/users/{id}/lifecycle/suspend</c>, restored with
/// <c>…/lifecycle/unsuspend</c>; the user's <c>status</c> (SUSPENDED / ACTIVE) decides
/// <see cref="DeliveryStatus.AlreadyInState"/>. Okta suspends only ACTIVE users and unsuspends only SUSPENDED ones; its
/// 400 for another status is <see cref="DeliveryStatus.AlreadyInState"/> only when the status, read again, says so, and
/// <see cref="DeliveryStatus.Permanent"/> otherwise (a deprovisioned user is never reactivated). 429 is retried after
/// <c>X-Rate-Limit-Reset</c>.</para>
/// </remarks>
public sealed class OktaConnector : HttpIdpConnector
{
    private const string Suspended = "SUSPENDED";
    private const string Active = "ACTIVE";

    private readonly string _users;
    private readonly BearerTokenSource _tokens;

    /// <summary>Creates the connector.</summary>
    /// <param name="name">Its configured name.</param>
    /// <param name="options">Its options (BaseUrl and Token required).</param>
    /// <param name="http">The shared client; per-request headers only.</param>
    /// <param name="time">Clock for <c>X-Rate-Limit-Reset</c>.</param>
    public OktaConnector(string name, ConnectorOptions options, HttpClient http, TimeProvider time)
        : base(ConnectorTypes.Okta, name, options, http, time)
    {
        _users = ConnectorHttp.TrimBase(options.BaseUrl) + "/api/v1/users";
        _tokens = new BearerTokenSource(http, time, options, name, tokenUrl: null, scope: null, scheme: "SSWS");
    }

    /// <inheritdoc/>
    /// <remarks>RevokeSessions and RequireReauth (no restore), Disable (suspend) and its restore (unsuspend).</remarks>
    public override bool Supports(ResponseActionKind kind, bool restore) => SupportsSessionsAndDisable(kind, restore);

    /// <inheritdoc/>
    private protected override DeliveryResult? Refuse(ConnectorRequest request, string login) =>
        login.Contains('"', StringComparison.Ordinal) || login.Contains('\\', StringComparison.Ordinal)
            ? new DeliveryResult(DeliveryStatus.Permanent, $"okta: login '{login}' has a quote or backslash and cannot be looked up")
            : null;

    /// <inheritdoc/>
    private protected override async Task<DeliveryResult> DeliverAsync(ConnectorRequest request, string login, CancellationToken ct)
    {
        var (user, failure) = await ReadUserAsync(login, ct);
        if (user is not { } found)
        {
            return failure;
        }

        var userUrl = $"{_users}/{Uri.EscapeDataString(found.Id)}";
        if (request.Kind is ResponseActionKind.RevokeSessions or ResponseActionKind.RequireReauth)
        {
            var tokens = request.Kind == ResponseActionKind.RevokeSessions;
            var clear = await _tokens.SendAsync(HttpMethod.Delete, userUrl + "/sessions" + (tokens ? "?oauthTokens=true" : string.Empty), null, ct);
            return _tokens.FailureOf(clear, "okta clear sessions")
                ?? new DeliveryResult(DeliveryStatus.Done, $"okta: cleared sessions{(tokens ? " and OAuth tokens" : string.Empty)} of '{login}' ({found.Id})");
        }

        var wanted = request.Restore ? Active : Suspended;
        if (found.Status == wanted)
        {
            return new DeliveryResult(DeliveryStatus.AlreadyInState, $"okta: '{login}' is already {wanted}");
        }

        var operation = request.Restore ? "unsuspend" : "suspend";
        var change = await _tokens.SendAsync(HttpMethod.Post, $"{userUrl}/lifecycle/{operation}", null, ct);
        if (_tokens.FailureOf(change, "okta " + operation) is not { } result)
        {
            return new DeliveryResult(DeliveryStatus.Done, $"okta: {operation}ed '{login}' ({found.Id}), was {found.Status}");
        }

        if (change.Failure is not null || change.Answer.Status != HttpStatusCode.BadRequest)
        {
            return result;
        }

        // "Cannot suspend a user that is not active": only the status says whether that means "already done".
        var (again, _) = await ReadUserAsync(login, ct);
        return again is { } now && now.Status == wanted
            ? new DeliveryResult(DeliveryStatus.AlreadyInState, $"okta: '{login}' is already {wanted}")
            : result with { Detail = ConnectorSupport.Truncate(result.Detail + $" (status {again?.Status ?? found.Status})") };
    }

    private async Task<(OktaUser? User, DeliveryResult Failure)> ReadUserAsync(string login, CancellationToken ct)
    {
        var bySearch = login.Contains('/', StringComparison.Ordinal) || login.Contains('?', StringComparison.Ordinal);
        var url = bySearch
            ? $"{_users}?search={Uri.EscapeDataString($"profile.login eq \"{login}\"")}"
            : $"{_users}/{Uri.EscapeDataString(login)}";
        var read = await _tokens.SendAsync(HttpMethod.Get, url, null, ct);
        if (read.Failure is null && read.Answer.Status == HttpStatusCode.NotFound)
        {
            return (null, new DeliveryResult(DeliveryStatus.Permanent, $"okta: no user '{login}'"));
        }

        if (_tokens.FailureOf(read, "okta read user") is { } failure)
        {
            return (null, failure);
        }

        using var doc = JsonDocument.Parse(read.Answer.Body);
        var root = doc.RootElement;
        if (bySearch)
        {
            if (root.ValueKind != JsonValueKind.Array)
            {
                throw new JsonException("expected an array of users");
            }

            foreach (var item in root.EnumerateArray())
            {
                if (item.TryGetProperty("profile", out var profile) && profile.ValueKind == JsonValueKind.Object
                    && profile.TryGetProperty("login", out var l) && l.ValueKind == JsonValueKind.String
                    && string.Equals(l.GetString(), login, StringComparison.OrdinalIgnoreCase)
                    && Parse(item) is { } match)
                {
                    return (match, default);
                }
            }

            return (null, new DeliveryResult(DeliveryStatus.Permanent, $"okta: no user '{login}'"));
        }

        return Parse(root) is { } user
            ? (user, default)
            : (null, new DeliveryResult(DeliveryStatus.Retry, "okta read user: answer has no id or status"));
    }

    private static OktaUser? Parse(JsonElement user) =>
        user.ValueKind == JsonValueKind.Object
        && user.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String && id.GetString() is { Length: > 0 } idValue
        && user.TryGetProperty("status", out var status) && status.ValueKind == JsonValueKind.String
            ? new OktaUser(idValue, status.GetString() ?? string.Empty)
            : null;

    private readonly record struct OktaUser(string Id, string Status);
}
