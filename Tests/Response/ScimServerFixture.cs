using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AnomalyZT.Silo.Response.Connectors;

namespace AnomalyZT.Tests.Response;

/// <summary>A real SCIM 2.0 service provider (SCIMMY with SCIMMY Routers on Express, <c>Tests/peers/scim</c>) on a
/// free loopback port: serves <see cref="BaseUrl"/>, requires <see cref="Token"/> as a bearer token, and holds the
/// users of <see cref="Users"/> in memory, all active at start.</summary>
/// <remarks>Use it as an xunit class or collection fixture.</remarks>
public sealed class ScimServerFixture : NodePeerFixture
{
    /// <summary>Creates the fixture; the server starts in <see cref="NodePeerFixture.InitializeAsync"/>.</summary>
    public ScimServerFixture()
        : base("scim")
    {
    }

    /// <summary>The seeded user names.</summary>
    public static IReadOnlyList<string> Users { get; } =
        ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "oscar", "peggy", "trent", "walter"];

    /// <summary>The bearer token the server requires (random per fixture).</summary>
    public string Token { get; } = "scim-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16));

    /// <summary>The SCIM base URL, http://127.0.0.1:PORT/scim/v2.</summary>
    public string BaseUrl => Origin + "/scim/v2";

    /// <summary>Connector settings for this server (the token as a literal reference).</summary>
    public ConnectorOptions ConnectorOptions(TimeSpan? timeout = null) => new()
    {
        Type = ConnectorTypes.Scim,
        BaseUrl = BaseUrl,
        Token = Token,
        Timeout = timeout ?? TimeSpan.FromSeconds(10),
    };

    /// <summary>The <c>active</c> attribute of <paramref name="userName"/>, read from the server.</summary>
    /// <exception cref="InvalidOperationException">No such user.</exception>
    public async Task<bool> IsActiveAsync(string userName, CancellationToken ct = default)
    {
        using var user = await GetUserAsync(userName, ct);
        return user.RootElement.GetProperty("active").GetBoolean();
    }

    /// <summary>Sets <paramref name="userName"/>'s <c>active</c> directly (PUT of the whole resource), to arrange a state.</summary>
    public async Task SetActiveAsync(string userName, bool active, CancellationToken ct = default)
    {
        using var user = await GetUserAsync(userName, ct);
        var id = user.RootElement.GetProperty("id").GetString();
        var body = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["schemas"] = new[] { "urn:ietf:params:scim:schemas:core:2.0:User" },
            ["userName"] = userName,
            ["active"] = active,
        });
        using var request = new HttpRequestMessage(HttpMethod.Put, $"{BaseUrl}/Users/{id}")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/scim+json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        using var response = await Http.SendAsync(request, ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"SCIM PUT {userName} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
        }
    }

    /// <inheritdoc />
    protected override IReadOnlyDictionary<string, string> PeerEnvironment() => new Dictionary<string, string>
    {
        ["SCIM_TOKEN"] = Token,
        ["SCIM_USERS"] = string.Join(',', Users),
    };

    /// <inheritdoc />
    protected override async Task OnStartedAsync(CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, BaseUrl + "/ServiceProviderConfig");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        using var response = await Http.SendAsync(request, ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"the SCIM peer listens but /ServiceProviderConfig answered {(int)response.StatusCode}:\n{Process.Output}");
        }
    }

    private async Task<JsonDocument> GetUserAsync(string userName, CancellationToken ct)
    {
        var url = BaseUrl + "/Users?filter=" + Uri.EscapeDataString($"userName eq \"{userName}\"");
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        using var response = await Http.SendAsync(request, ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"SCIM search for {userName} answered {(int)response.StatusCode}: {body}");
        }

        using var list = JsonDocument.Parse(body);
        var resources = list.RootElement.GetProperty("Resources");
        return resources.GetArrayLength() == 1
            ? JsonDocument.Parse(resources[0].GetRawText())
            : throw new InvalidOperationException($"SCIM search for {userName} found {resources.GetArrayLength()} users");
    }
}
