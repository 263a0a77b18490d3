using System.Text.Json;
using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Silo.Response.Connectors;

/// <summary>Microsoft Entra ID through Microsoft Graph v1.0 (<see cref="ConnectorOptions.BaseUrl"/> such as
/// <c>https://graph.microsoft.com/v1.0</c>).</summary>
/// <remarks>
/// <para>Authentication: with <see cref="ConnectorOptions.ClientId"/> set, the client-credentials grant at
/// <see cref="ConnectorOptions.TokenUrl"/> (<c>https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token</c>) with scope
/// <c>https://graph.microsoft.com/.default</c> (the national-cloud Graph hosts get their own <c>/.default</c>), cached until
/// shortly before expiry; otherwise the static <see cref="ConnectorOptions.Token"/>. The application needs
/// <c>User.RevokeSessions.All</c> and <c>User.EnableDisableAccount.All</c> with <c>User.Read.All</c> (or
/// <c>User.ReadWrite.All</c>).</para>
/// <para>Mapping: <see cref="ResponseActionKind.RevokeSessions"/> and <see cref="ResponseActionKind.RequireReauth"/> are
/// <c>POST /users/{id | userPrincipalName}/revokeSignInSessions</c> (refresh tokens and browser session cookies become
/// invalid, so the user must sign in again; any 2xx counts, as Microsoft documents a known issue with its status code).
/// <see cref="ResponseActionKind.Disable"/> reads <c>GET /users/{id}?$select=accountEnabled</c> and, unless it already has
/// the asked value, sends <c>PATCH /users/{id}</c> with <c>{"accountEnabled":false}</c> (<c>true</c> to restore),
/// answered 204. 429 and 503 are retried after <c>Retry-After</c>.</para>
/// </remarks>
public sealed class GraphConnector : HttpIdpConnector
{
    /// <summary>The scope of the client-credentials grant for the global Graph service.</summary>
    public const string DefaultScope = "https://graph.microsoft.com/.default";

    private static readonly string[] NationalClouds =
        ["graph.microsoft.us", "dod-graph.microsoft.us", "microsoftgraph.chinacloudapi.cn"];

    private readonly string _users;
    private readonly BearerTokenSource _tokens;

    /// <summary>Creates the connector.</summary>
    /// <param name="name">Its configured name.</param>
    /// <param name="options">Its options (BaseUrl, and Token or ClientId + ClientSecret + TokenUrl).</param>
    /// <param name="http">The shared client; per-request headers only.</param>
    /// <param name="time">Clock for token expiry and <c>Retry-After</c> dates.</param>
    public GraphConnector(string name, ConnectorOptions options, HttpClient http, TimeProvider time)
        : base(ConnectorTypes.Graph, name, options, http, time)
    {
        var baseUrl = ConnectorHttp.TrimBase(options.BaseUrl);
        _users = baseUrl + "/users";
        var clientCredentials = !string.IsNullOrEmpty(options.ClientId) && !string.IsNullOrEmpty(options.TokenUrl);
        _tokens = new BearerTokenSource(http, time, options, name,
            clientCredentials ? new Uri(options.TokenUrl) : null, clientCredentials ? ScopeFor(baseUrl) : null);
    }

    /// <inheritdoc/>
    /// <remarks>RevokeSessions and RequireReauth (no restore), Disable and its restore.</remarks>
    public override bool Supports(ResponseActionKind kind, bool restore) => SupportsSessionsAndDisable(kind, restore);

    /// <summary>The path of user <paramref name="user"/> under <c>/users</c>: URL-encoded with <c>@</c> kept (so
    /// <c>#</c> in guest UPNs becomes <c>%23</c>), and the <c>users('…')</c> form for UPNs starting with <c>$</c>, as
    /// Microsoft Graph's known issues require.</summary>
    internal static string UserSegment(string user)
    {
        var escaped = Uri.EscapeDataString(user).Replace("%40", "@", StringComparison.Ordinal);
        return user.StartsWith('$')
            ? "('" + escaped.Replace("'", "''", StringComparison.Ordinal) + "')"
            : "/" + escaped;
    }

    /// <inheritdoc/>
    private protected override async Task<DeliveryResult> DeliverAsync(ConnectorRequest request, string user, CancellationToken ct)
    {
        var userUrl = _users + UserSegment(user);
        if (request.Kind is ResponseActionKind.RevokeSessions or ResponseActionKind.RequireReauth)
        {
            var revoke = await _tokens.SendAsync(HttpMethod.Post, userUrl + "/revokeSignInSessions", null, ct);
            return _tokens.FailureOf(revoke, "graph revokeSignInSessions")
                ?? new DeliveryResult(DeliveryStatus.Done, $"graph: revoked sign-in sessions of '{user}'");
        }

        var enable = request.Restore;
        var read = await _tokens.SendAsync(HttpMethod.Get, userUrl + "?$select=accountEnabled", null, ct);
        if (_tokens.FailureOf(read, "graph read user") is { } failure)
        {
            return failure;
        }

        using (var doc = JsonDocument.Parse(read.Answer.Body))
        {
            if (doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("accountEnabled", out var enabled)
                && enabled.ValueKind is JsonValueKind.True or JsonValueKind.False
                && enabled.GetBoolean() == enable)
            {
                return new DeliveryResult(DeliveryStatus.AlreadyInState, $"graph: '{user}' is already {(enable ? "enabled" : "disabled")}");
            }
        }

        var body = ConnectorHttp.JsonObject(w => w.WriteBoolean("accountEnabled", enable));
        var update = await _tokens.SendAsync(HttpMethod.Patch, userUrl, body, ct);
        return _tokens.FailureOf(update, "graph update user")
            ?? new DeliveryResult(DeliveryStatus.Done, $"graph: {(enable ? "enabled" : "disabled")} '{user}'");
    }

    private static string ScopeFor(string baseUrl)
    {
        var host = new Uri(baseUrl).Host;
        return Array.Exists(NationalClouds, h => string.Equals(h, host, StringComparison.OrdinalIgnoreCase))
            ? $"https://{host.ToLowerInvariant()}/.default"
            : DefaultScope;
    }
}
