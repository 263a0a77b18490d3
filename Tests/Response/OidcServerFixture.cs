using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AnomalyZT.Silo.Response.Connectors;

namespace AnomalyZT.Tests.Response;

/// <summary>A real OAuth 2.0 / OpenID provider (node-oidc-provider, <c>Tests/peers/oidc</c>) on a free loopback port,
/// with the client credentials grant, token revocation (RFC 7009) and introspection (RFC 7662) on. Clients:
/// <c>workload</c> obtains the access tokens to revoke (<see cref="GetAccessTokenAsync"/>);
/// <see cref="ResponderClientId"/> is the connector's client, allowed to revoke and introspect any token.</summary>
/// <remarks>Use it as an xunit class or collection fixture. Endpoints come from the provider's discovery document.</remarks>
public sealed class OidcServerFixture : NodePeerFixture
{
    /// <summary>The client that gets the tokens.</summary>
    public const string WorkloadClientId = "workload";

    /// <summary>The connector's client.</summary>
    public const string ResponderClientId = "anomalyzt-responder";

    /// <summary>Creates the fixture; the server starts in <see cref="NodePeerFixture.InitializeAsync"/>.</summary>
    public OidcServerFixture()
        : base("oidc")
    {
    }

    /// <summary>The workload client's secret (random per fixture).</summary>
    public string WorkloadSecret { get; } = "wl-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16));

    /// <summary>The responder client's secret (random per fixture), with characters that RFC 6749 §2.3.1's
    /// form-encoding of HTTP Basic credentials must escape: space, plus, percent, colon, slash (a client secret is
    /// VSCHAR, printable ASCII, by RFC 6749 Appendix A.2).</summary>
    public string ResponderSecret { get; } = "rs " + Convert.ToHexString(RandomNumberGenerator.GetBytes(12)) + "+%:/&=";

    /// <summary>The issuer, http://127.0.0.1:PORT.</summary>
    public string Issuer => Origin;

    /// <summary>The token endpoint.</summary>
    public string TokenEndpoint { get; private set; } = string.Empty;

    /// <summary>The revocation endpoint (RFC 7009): the connector's base URL.</summary>
    public string RevocationEndpoint { get; private set; } = string.Empty;

    /// <summary>The introspection endpoint (RFC 7662).</summary>
    public string IntrospectionEndpoint { get; private set; } = string.Empty;

    /// <summary>Connector settings for this provider (the secret as a literal reference).</summary>
    public ConnectorOptions ConnectorOptions(TimeSpan? timeout = null) => new()
    {
        Type = ConnectorTypes.OAuth,
        BaseUrl = RevocationEndpoint,
        ClientId = ResponderClientId,
        ClientSecret = ResponderSecret,
        Timeout = timeout ?? TimeSpan.FromSeconds(10),
    };

    /// <summary>A fresh access token of the workload client (client credentials grant).</summary>
    public async Task<string> GetAccessTokenAsync(CancellationToken ct = default)
    {
        var json = await PostFormAsync("token request", TokenEndpoint, Basic(WorkloadClientId, WorkloadSecret),
            [new("grant_type", "client_credentials"), new("scope", "api")], ct);
        return json.GetProperty("access_token").GetString() ?? throw new InvalidOperationException("no access_token: " + json.GetRawText());
    }

    /// <summary>The <c>active</c> member of the provider's introspection of <paramref name="token"/> (RFC 7662).</summary>
    public async Task<bool> IsActiveAsync(string token, CancellationToken ct = default)
    {
        var json = await PostFormAsync("introspection", IntrospectionEndpoint, Basic(ResponderClientId, ResponderSecret),
            [new("token", token), new("token_type_hint", "access_token")], ct);
        return json.GetProperty("active").GetBoolean();
    }

    /// <inheritdoc />
    protected override IReadOnlyDictionary<string, string> PeerEnvironment() => new Dictionary<string, string>
    {
        ["OIDC_WORKLOAD_SECRET"] = WorkloadSecret,
        ["OIDC_RESPONDER_SECRET"] = ResponderSecret,
    };

    /// <inheritdoc />
    protected override async Task OnStartedAsync(CancellationToken ct)
    {
        var body = await Http.GetStringAsync(Issuer + "/.well-known/openid-configuration", ct);
        using var discovery = JsonDocument.Parse(body);
        var root = discovery.RootElement;
        TokenEndpoint = root.GetProperty("token_endpoint").GetString()!;
        RevocationEndpoint = root.GetProperty("revocation_endpoint").GetString()!;
        IntrospectionEndpoint = root.GetProperty("introspection_endpoint").GetString()!;
    }

    /// <summary>The JSON answer to a client-authenticated form POST to <paramref name="endpoint"/>.</summary>
    private async Task<JsonElement> PostFormAsync(
        string what, string endpoint, AuthenticationHeaderValue client, IEnumerable<KeyValuePair<string, string>> form, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Authorization = client;
        using var response = await Http.SendAsync(request, ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{what} answered {(int)response.StatusCode}: {body}");
        }

        using var json = JsonDocument.Parse(body);
        return json.RootElement.Clone();
    }

    // Independent of the connector's own encoding helper (RFC 6749 §2.3.1: each part form-encoded).
    private static AuthenticationHeaderValue Basic(string id, string secret)
    {
        static string Form(string s) => Uri.EscapeDataString(s).Replace("%20", "+", StringComparison.Ordinal);
        return new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(Form(id) + ":" + Form(secret))));
    }
}
