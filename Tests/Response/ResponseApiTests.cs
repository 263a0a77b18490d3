using System.Net;
using System.Net.Http.Headers;
using AnomalyZT.Silo.Security;
using AnomalyZT.Tests.Silo;

namespace AnomalyZT.Tests.Response;

/// <summary>Who may call the response endpoints, and how bad requests are answered.</summary>
public sealed class ResponseApiTests
{
    private const string ResponderKey = "test-responder-key-0123456789";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Task<SiloServer> StartAsync() => SiloServer.StartAsync(settings: new Dictionary<string, string?>
    {
        ["Auth:Keys:3:Name"] = "oncall",
        ["Auth:Keys:3:Role"] = Roles.Responder,
        ["Auth:Keys:3:Sha256"] = ApiKeyRegistry.Hash(ResponderKey),
    });

    [Theory]
    [InlineData(SiloServer.ViewerKey, "GET", "v1/actions", HttpStatusCode.OK)]
    [InlineData(ResponderKey, "GET", "v1/actions", HttpStatusCode.OK)]
    [InlineData(SiloServer.ShipperKey, "GET", "v1/actions", HttpStatusCode.Forbidden)]
    [InlineData(null, "GET", "v1/actions", HttpStatusCode.Unauthorized)]
    [InlineData(SiloServer.ViewerKey, "POST", "v1/actions/abc/approve", HttpStatusCode.Forbidden)]
    [InlineData(SiloServer.ShipperKey, "POST", "v1/actions/abc/undo", HttpStatusCode.Forbidden)]
    [InlineData(ResponderKey, "POST", "v1/actions/abc/approve", HttpStatusCode.NotFound)]
    [InlineData(SiloServer.AdminKey, "POST", "v1/actions/abc/reject", HttpStatusCode.NotFound)]
    [InlineData(ResponderKey, "POST", "v1/actions/abc/explode", HttpStatusCode.NotFound)]
    [InlineData(ResponderKey, "GET", "v1/actions?state=bogus", HttpStatusCode.BadRequest)]
    [InlineData(ResponderKey, "GET", "v1/actions?limit=0", HttpStatusCode.BadRequest)]
    [InlineData(ResponderKey, "GET", "v1/actions?cursor=zzz", HttpStatusCode.BadRequest)]
    [InlineData(ResponderKey, "GET", "v1/identities/nobody@corp/risk", HttpStatusCode.NotFound)]
    [InlineData(SiloServer.ShipperKey, "GET", "v1/identities/nobody@corp/risk", HttpStatusCode.Forbidden)]
    [InlineData(SiloServer.ViewerKey, "GET", "v1/audit", HttpStatusCode.OK)]
    [InlineData(SiloServer.ShipperKey, "GET", "v1/audit", HttpStatusCode.Forbidden)]
    public async Task ResponseEndpoints_AnswerByRole(string? key, string method, string path, HttpStatusCode expected)
    {
        await using var silo = await StartAsync();
        using var client = new HttpClient { BaseAddress = silo.BaseAddress };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        using var response = await client.SendAsync(request, Ct);
        Assert.Equal(expected, response.StatusCode);
    }
}
