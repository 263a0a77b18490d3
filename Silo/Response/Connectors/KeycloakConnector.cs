using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
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
public sealed class KeycloakConnector : IIdpConnector
{
    private readonly ConnectorOptions _options;
    private readonly HttpClient _http;
    private readonly TimeProvider _time;
    private readonly Regex? _pattern;
    private readonly string _users;
    private readonly BearerTokenSource _tokens;

    /// <summary>Creates the connector.</summary>
    /// <param name="name">Its configured name.</param>
    /// <param name="options">Its options (BaseUrl and Realm required; see <see cref="ConnectorFactory.Validate"/>).</param>
    /// <param name="http">The shared client; per-request headers only.</param>
    /// <param name="time">Clock for token expiry.</param>
    public KeycloakConnector(string name, ConnectorOptions options, HttpClient http, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(time);
        Name = name;
        _options = options;
        _http = http;
        _time = time;
        _pattern = ConnectorSupport.CompileSubjectPattern(options, name);
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
    public string Name { get; }

    /// <inheritdoc/>
    /// <remarks>RevokeSessions and RequireReauth (no restore: sessions stay ended), Disable and its restore.</remarks>
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
                $"keycloak connector '{Name}' does not support {request.Kind}{(request.Restore ? " restore" : string.Empty)}"));
        }

        if (ConnectorSupport.MapSubject(_pattern, request.Subject) is not { } user)
        {
            return Task.FromResult(new DeliveryResult(DeliveryStatus.Permanent,
                $"subject '{ConnectorSupport.Truncate(request.Subject)}' does not match Response:Connectors:{Name}:SubjectPattern"));
        }

        return ConnectorHttp.RunAsync(_options.Timeout, t => DeliverAsync(request, user, t), ct);
    }

    private async Task<DeliveryResult> DeliverAsync(ConnectorRequest request, string user, CancellationToken ct)
    {
        var find = await SendAsync(HttpMethod.Get, $"{_users}?username={Uri.EscapeDataString(user)}&exact=true", null, ct);
        if (find.Failure is { } failure)
        {
            return failure;
        }

        if (!find.Answer.IsSuccess)
        {
            return ConnectorHttp.Result(find.Answer, "keycloak find user", _tokens.Secrets);
        }

        if (FindId(find.Answer.Body, user) is not { } id)
        {
            return new DeliveryResult(DeliveryStatus.Permanent, $"keycloak: no user '{user}' in realm '{_options.Realm}'");
        }

        var userUrl = $"{_users}/{Uri.EscapeDataString(id)}";
        if (request.Kind is ResponseActionKind.RevokeSessions or ResponseActionKind.RequireReauth)
        {
            var logout = await SendAsync(HttpMethod.Post, userUrl + "/logout", null, ct);
            return logout.Failure ?? (logout.Answer.IsSuccess
                ? new DeliveryResult(DeliveryStatus.Done, $"keycloak: logged out user '{user}' ({id}) from all sessions")
                : ConnectorHttp.Result(logout.Answer, "keycloak logout", _tokens.Secrets));
        }

        var read = await SendAsync(HttpMethod.Get, userUrl, null, ct);
        if (read.Failure is { } readFailure)
        {
            return readFailure;
        }

        if (!read.Answer.IsSuccess)
        {
            return ConnectorHttp.Result(read.Answer, "keycloak read user", _tokens.Secrets);
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
        var update = await SendAsync(HttpMethod.Put, userUrl, body, ct);
        return update.Failure ?? (update.Answer.IsSuccess
            ? new DeliveryResult(DeliveryStatus.Done, $"keycloak: {(enable ? "enabled" : "disabled")} user '{user}' ({id})")
            : ConnectorHttp.Result(update.Answer, "keycloak update user", _tokens.Secrets));
    }

    private Task<Sent> SendAsync(HttpMethod method, string url, byte[]? json, CancellationToken ct) =>
        _tokens.SendAsync(() =>
        {
            var request = new HttpRequestMessage(method, url);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            if (json is not null)
            {
                request.Content = ConnectorHttp.JsonContent(json);
            }

            return request;
        }, "Bearer", ct);

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
