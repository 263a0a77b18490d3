using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
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
public sealed class OktaConnector : IIdpConnector
{
    private const string Suspended = "SUSPENDED";
    private const string Active = "ACTIVE";

    private readonly ConnectorOptions _options;
    private readonly Regex? _pattern;
    private readonly string _users;
    private readonly BearerTokenSource _tokens;

    /// <summary>Creates the connector.</summary>
    /// <param name="name">Its configured name.</param>
    /// <param name="options">Its options (BaseUrl and Token required).</param>
    /// <param name="http">The shared client; per-request headers only.</param>
    /// <param name="time">Clock for <c>X-Rate-Limit-Reset</c>.</param>
    public OktaConnector(string name, ConnectorOptions options, HttpClient http, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(time);
        Name = name;
        _options = options;
        _pattern = ConnectorSupport.CompileSubjectPattern(options, name);
        _users = ConnectorHttp.TrimBase(options.BaseUrl) + "/api/v1/users";
        _tokens = new BearerTokenSource(http, time, options, name, tokenUrl: null, scope: null);
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    /// <remarks>RevokeSessions and RequireReauth (no restore), Disable (suspend) and its restore (unsuspend).</remarks>
    public bool Supports(ResponseActionKind kind, bool restore) => kind switch
    {
        ResponseActionKind.RevokeSessions or ResponseActionKind.RequireReauth => !restore,
        ResponseActionKind.Disable => true,
        _ => false,
    };

    /// <inheritdoc/>
    public Task<DeliveryResult> ExecuteAsync(ConnectorRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!Supports(request.Kind, request.Restore))
        {
            return Task.FromResult(new DeliveryResult(DeliveryStatus.Permanent,
                $"okta connector '{Name}' does not support {request.Kind}{(request.Restore ? " restore" : string.Empty)}"));
        }

        if (ConnectorSupport.MapSubject(_pattern, request.Subject) is not { } login)
        {
            return Task.FromResult(new DeliveryResult(DeliveryStatus.Permanent,
                $"subject '{ConnectorSupport.Truncate(request.Subject)}' does not match Response:Connectors:{Name}:SubjectPattern"));
        }

        if (login.Contains('"', StringComparison.Ordinal) || login.Contains('\\', StringComparison.Ordinal))
        {
            return Task.FromResult(new DeliveryResult(DeliveryStatus.Permanent, $"okta: login '{login}' has a quote or backslash and cannot be looked up"));
        }

        return ConnectorHttp.RunAsync(_options.Timeout, t => DeliverAsync(request, login, t), ct);
    }

    private async Task<DeliveryResult> DeliverAsync(ConnectorRequest request, string login, CancellationToken ct)
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
            var clear = await SendAsync(HttpMethod.Delete, userUrl + "/sessions" + (tokens ? "?oauthTokens=true" : string.Empty), ct);
            return clear.Failure ?? (clear.Answer.IsSuccess
                ? new DeliveryResult(DeliveryStatus.Done,
                    $"okta: cleared sessions{(tokens ? " and OAuth tokens" : string.Empty)} of '{login}' ({found.Id})")
                : ConnectorHttp.Result(clear.Answer, "okta clear sessions", _tokens.Secrets));
        }

        var wanted = request.Restore ? Active : Suspended;
        if (found.Status == wanted)
        {
            return new DeliveryResult(DeliveryStatus.AlreadyInState, $"okta: '{login}' is already {wanted}");
        }

        var operation = request.Restore ? "unsuspend" : "suspend";
        var change = await SendAsync(HttpMethod.Post, $"{userUrl}/lifecycle/{operation}", ct);
        if (change.Failure is { } changeFailure)
        {
            return changeFailure;
        }

        if (change.Answer.IsSuccess)
        {
            return new DeliveryResult(DeliveryStatus.Done, $"okta: {operation}ed '{login}' ({found.Id}), was {found.Status}");
        }

        var result = ConnectorHttp.Result(change.Answer, "okta " + operation, _tokens.Secrets);
        if (change.Answer.Status != HttpStatusCode.BadRequest)
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
        var read = await SendAsync(HttpMethod.Get, url, ct);
        if (read.Failure is { } failure)
        {
            return (null, failure);
        }

        if (read.Answer.Status == HttpStatusCode.NotFound)
        {
            return (null, new DeliveryResult(DeliveryStatus.Permanent, $"okta: no user '{login}'"));
        }

        if (!read.Answer.IsSuccess)
        {
            return (null, ConnectorHttp.Result(read.Answer, "okta read user", _tokens.Secrets));
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

    private Task<Sent> SendAsync(HttpMethod method, string url, CancellationToken ct) =>
        _tokens.SendAsync(() =>
        {
            var request = new HttpRequestMessage(method, url);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            return request;
        }, "SSWS", ct);

    private readonly record struct OktaUser(string Id, string Status);
}
