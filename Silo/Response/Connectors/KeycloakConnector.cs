using System.Text.Json;
using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Silo.Response.Connectors;

/// <summary>Keycloak through its Admin REST API (<c>{BaseUrl}/admin/realms/{Realm}/…</c>).</summary>
/// <remarks>
/// <para>Authentication: with <see cref="ConnectorOptions.ClientId"/> set, a client-credentials grant at
/// <see cref="ConnectorOptions.TokenUrl"/> (default <c>{BaseUrl}/realms/{Realm}/protocol/openid-connect/token</c>), the
/// token cached until shortly before it expires; otherwise the static <see cref="ConnectorOptions.Token"/>. The service
/// account needs the <c>realm-management</c> roles <c>view-users</c> and <c>manage-users</c>.</para>
/// <para>Mapping: the user is found with <c>GET …/users?username={user}&amp;exact=true</c>.
/// <see cref="ResponseActionKind.RevokeSessions"/> and <see cref="ResponseActionKind.RequireReauth"/> are both
/// <c>POST …/users/{id}/logout</c> (Keycloak removes the user's sessions; the next request needs a fresh login, which is
/// as close to "re-authenticate" as the admin API offers). <see cref="ResponseActionKind.Disable"/> reads
/// <c>GET …/users/{id}</c> and, unless <c>enabled</c> already has the asked value, writes the same representation back
/// with <c>PUT …/users/{id}</c> and <c>enabled</c> changed: since Keycloak 24.0.4 a partial representation is no longer
/// supported for updates (missing root attributes such as email or firstName would be cleared).</para>
/// </remarks>
public sealed class KeycloakConnector : HttpIdpConnector
{
    private readonly string _users;
    private readonly BearerTokenSource _tokens;

    /// <summary>Creates the connector.</summary>
    /// <param name="name">Its configured name.</param>
    /// <param name="options">Its options (BaseUrl and Realm required; see <see cref="ConnectorFactory.Validate"/>).</param>
    /// <param name="http">The shared client; per-request headers only.</param>
    /// <param name="time">Clock for token expiry.</param>
    public KeycloakConnector(string name, ConnectorOptions options, HttpClient http, TimeProvider time)
        : base(ConnectorTypes.Keycloak, name, options, http, time)
    {
        var baseUrl = ConnectorHttp.TrimBase(options.BaseUrl);
        var realm = Uri.EscapeDataString(options.Realm);
        _users = $"{baseUrl}/admin/realms/{realm}/users";
        Uri? tokenUrl = null;
        if (!string.IsNullOrEmpty(options.ClientId))
        {
            tokenUrl = new Uri(string.IsNullOrEmpty(options.TokenUrl)
                ? $"{baseUrl}/realms/{realm}/protocol/openid-connect/token"
                : options.TokenUrl);
        }

        _tokens = new BearerTokenSource(http, time, options, name, tokenUrl, scope: null);
    }

    /// <inheritdoc/>
    /// <remarks>RevokeSessions and RequireReauth (no restore: sessions stay ended), Disable and its restore.</remarks>
    public override bool Supports(ResponseActionKind kind, bool restore) => SupportsSessionsAndDisable(kind, restore);

    /// <inheritdoc/>
    private protected override async Task<DeliveryResult> DeliverAsync(ConnectorRequest request, string user, CancellationToken ct)
    {
        var find = await _tokens.SendAsync(HttpMethod.Get, $"{_users}?username={Uri.EscapeDataString(user)}&exact=true", null, ct);
        if (_tokens.FailureOf(find, "keycloak find user") is { } failure)
        {
            return failure;
        }

        if (FindId(find.Answer.Body, user) is not { } id)
        {
            return new DeliveryResult(DeliveryStatus.Permanent, $"keycloak: no user '{user}' in realm '{Options.Realm}'");
        }

        var userUrl = $"{_users}/{Uri.EscapeDataString(id)}";
        if (request.Kind is ResponseActionKind.RevokeSessions or ResponseActionKind.RequireReauth)
        {
            var logout = await _tokens.SendAsync(HttpMethod.Post, userUrl + "/logout", null, ct);
            return _tokens.FailureOf(logout, "keycloak logout")
                ?? new DeliveryResult(DeliveryStatus.Done, $"keycloak: logged out user '{user}' ({id}) from all sessions");
        }

        var read = await _tokens.SendAsync(HttpMethod.Get, userUrl, null, ct);
        if (_tokens.FailureOf(read, "keycloak read user") is { } readFailure)
        {
            return readFailure;
        }

        var enable = request.Restore;
        using var representation = JsonDocument.Parse(read.Answer.Body);
        if (representation.RootElement.ValueKind != JsonValueKind.Object)
        {
            return new DeliveryResult(DeliveryStatus.Retry, "keycloak read user: answer is not a user representation");
        }

        if (representation.RootElement.TryGetProperty("enabled", out var enabled)
            && enabled.ValueKind is JsonValueKind.True or JsonValueKind.False
            && enabled.GetBoolean() == enable)
        {
            return new DeliveryResult(DeliveryStatus.AlreadyInState, $"keycloak: user '{user}' is already {(enable ? "enabled" : "disabled")}");
        }

        var body = ConnectorHttp.JsonObject(w =>
        {
            foreach (var property in representation.RootElement.EnumerateObject())
            {
                if (property.NameEquals("enabled"))
                {
                    continue;
                }

                property.WriteTo(w);
            }

            w.WriteBoolean("enabled", enable);
        });
        var update = await _tokens.SendAsync(HttpMethod.Put, userUrl, body, ct);
        return _tokens.FailureOf(update, "keycloak update user")
            ?? new DeliveryResult(DeliveryStatus.Done, $"keycloak: {(enable ? "enabled" : "disabled")} user '{user}' ({id})");
    }

    /// <summary>The id of the user named <paramref name="user"/> in a <c>UserRepresentation</c> array (Keycloak stores
    /// user names in lower case, so the match ignores case).</summary>
    private static string? FindId(string body, string user)
    {
        using var doc = JsonDocument.Parse(body);
        if (doc.RootElement.ValueKind != JsonValueKind.Array)
        {
            throw new JsonException("expected an array of users");
        }

        foreach (var item in doc.RootElement.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Object
                && item.TryGetProperty("username", out var username) && username.ValueKind == JsonValueKind.String
                && string.Equals(username.GetString(), user, StringComparison.OrdinalIgnoreCase)
                && item.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String
                && id.GetString() is { Length: > 0 } value)
            {
                return value;
            }
        }

        return null;
    }
}
