using System.Net;
using System.Text;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.Response.Connectors;

namespace AnomalyZT.Tests.Response;

/// <summary>The RFC 7009 connector against a real OAuth 2.0 provider (node-oidc-provider, <see cref="OidcServerFixture"/>):
/// tokens come from the client credentials grant and their state is read back by RFC 7662 introspection.</summary>
public sealed class OAuthRevocationConnectorTests(OidcServerFixture oidc) : IClassFixture<OidcServerFixture>
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Revoke_ActiveToken_MakesItInactive()
    {
        var token = await oidc.GetAccessTokenAsync(Ct);
        var other = await oidc.GetAccessTokenAsync(Ct);
        Assert.True(await oidc.IsActiveAsync(token, Ct));

        var result = await Connector().ExecuteAsync(Revoke(token), Ct);

        Assert.Equal(DeliveryStatus.Done, result.Status);
        Assert.False(await oidc.IsActiveAsync(token, Ct));
        Assert.True(await oidc.IsActiveAsync(other, Ct));
    }

    [Fact]
    public async Task Revoke_Twice_IsDoneBothTimes()
    {
        var token = await oidc.GetAccessTokenAsync(Ct);
        var connector = Connector();

        var first = await connector.ExecuteAsync(Revoke(token), Ct);
        var second = await connector.ExecuteAsync(Revoke(token), Ct);

        Assert.Equal(DeliveryStatus.Done, first.Status);
        Assert.Equal(DeliveryStatus.Done, second.Status);
        Assert.False(await oidc.IsActiveAsync(token, Ct));
    }

    [Fact]
    public async Task Revoke_TokenTheProviderNeverIssued_IsDone()
    {
        var result = await Connector().ExecuteAsync(Revoke("never-issued-" + Guid.NewGuid().ToString("N")), Ct);

        Assert.Equal(DeliveryStatus.Done, result.Status);
    }

    [Fact]
    public async Task Revoke_WrongClientSecret_IsPermanentAndTokenStaysActive()
    {
        var token = await oidc.GetAccessTokenAsync(Ct);
        var options = oidc.ConnectorOptions();
        options.ClientSecret = "wrong-secret-value";

        var result = await Connector(options).ExecuteAsync(Revoke(token), Ct);

        Assert.Equal(DeliveryStatus.Permanent, result.Status);
        Assert.Contains("HTTP 401", result.Detail, StringComparison.Ordinal);
        Assert.True(await oidc.IsActiveAsync(token, Ct));
    }

    [Fact]
    public async Task Revoke_UnknownClient_IsPermanent()
    {
        var token = await oidc.GetAccessTokenAsync(Ct);
        var options = oidc.ConnectorOptions();
        options.ClientId = "no-such-client";

        var result = await Connector(options).ExecuteAsync(Revoke(token), Ct);

        Assert.Equal(DeliveryStatus.Permanent, result.Status);
        Assert.True(await oidc.IsActiveAsync(token, Ct));
    }

    [Fact]
    public async Task Revoke_ServerDown_IsRetry()
    {
        var options = oidc.ConnectorOptions();
        options.BaseUrl = $"http://127.0.0.1:{PeerProcess.FreePort()}/token/revocation";

        var result = await Connector(options).ExecuteAsync(Revoke("some-token-value"), Ct);

        Assert.Equal(DeliveryStatus.Retry, result.Status);
    }

    [Fact]
    public async Task Revoke_ServerThatNeverAnswers_IsRetryAfterTheTimeout()
    {
        await using var silent = new SilentTcpServer();
        var options = oidc.ConnectorOptions(TimeSpan.FromMilliseconds(500));
        options.BaseUrl = $"http://127.0.0.1:{silent.Port}/token/revocation";

        var result = await Connector(options).ExecuteAsync(Revoke("some-token-value"), Ct);

        Assert.Equal(DeliveryStatus.Retry, result.Status);
        Assert.Contains("timed out", result.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(HttpStatusCode.ServiceUnavailable, DeliveryStatus.Retry)]
    [InlineData(HttpStatusCode.TooManyRequests, DeliveryStatus.Retry)]
    [InlineData(HttpStatusCode.InternalServerError, DeliveryStatus.Retry)]
    [InlineData(HttpStatusCode.BadRequest, DeliveryStatus.Permanent)]
    [InlineData(HttpStatusCode.Unauthorized, DeliveryStatus.Permanent)]
    [InlineData(HttpStatusCode.OK, DeliveryStatus.Done)]
    public async Task Revoke_ProviderStatus_MapsAsRfc7009Says(HttpStatusCode status, DeliveryStatus expected)
    {
        // The real provider cannot be made to answer 503; a handler that answers with the status stands in.
        using var http = new HttpClient(new EchoHandler(status));

        var result = await new OAuthRevocationConnector("oauth-stub", oidc.ConnectorOptions(), http).ExecuteAsync(Revoke("some-token-value"), Ct);

        Assert.Equal(expected, result.Status);
    }

    [Fact]
    public async Task Details_NeverContainTheTokenOrTheSecret()
    {
        var token = await oidc.GetAccessTokenAsync(Ct);
        var options = oidc.ConnectorOptions();
        var wrong = oidc.ConnectorOptions();
        wrong.ClientSecret = "wrong-secret-value";
        var down = oidc.ConnectorOptions();
        down.BaseUrl = $"http://127.0.0.1:{PeerProcess.FreePort()}/token/revocation";
        var details = new List<string>
        {
            (await Connector(wrong).ExecuteAsync(Revoke(token), Ct)).Detail,
            (await Connector(options).ExecuteAsync(Revoke(token), Ct)).Detail,
            (await Connector(options).ExecuteAsync(Revoke(token), Ct)).Detail,
            (await Connector(down).ExecuteAsync(Revoke(token), Ct)).Detail,
        };

        // A provider that echoes the request (Authorization header and form body) in its error.
        using var echo = new HttpClient(new EchoHandler(HttpStatusCode.BadRequest));
        var echoed = await new OAuthRevocationConnector("oauth-echo", options, echo).ExecuteAsync(Revoke(token), Ct);
        details.Add(echoed.Detail);

        var basic = OAuthRevocationConnector.BasicCredentials(options.ClientId, oidc.ResponderSecret);
        foreach (var secret in new[] { token, oidc.ResponderSecret, "wrong-secret-value", basic })
        {
            Assert.All(details, d => Assert.DoesNotContain(secret, d, StringComparison.Ordinal));
            Assert.All(details, d => Assert.DoesNotContain(Uri.EscapeDataString(secret), d, StringComparison.OrdinalIgnoreCase));
            Assert.All(details, d => Assert.DoesNotContain(secret[..8], d, StringComparison.Ordinal));
        }

        Assert.Contains("***", echoed.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restore_OrOtherKinds_AreNotSupportedAndPermanent()
    {
        var connector = Connector();

        var restore = await connector.ExecuteAsync(new ConnectorRequest("a1", ResponseActionKind.RevokeToken, "alice", Restore: true, Token: "t-value"), Ct);
        var disable = await connector.ExecuteAsync(new ConnectorRequest("a2", ResponseActionKind.Disable, "alice", Restore: false), Ct);
        var noToken = await connector.ExecuteAsync(new ConnectorRequest("a3", ResponseActionKind.RevokeToken, "alice", Restore: false), Ct);

        Assert.True(connector.Supports(ResponseActionKind.RevokeToken, restore: false));
        Assert.False(connector.Supports(ResponseActionKind.RevokeToken, restore: true));
        Assert.False(connector.Supports(ResponseActionKind.Disable, restore: false));
        Assert.False(connector.Supports(ResponseActionKind.RevokeSessions, restore: false));
        Assert.Equal(DeliveryStatus.Permanent, restore.Status);
        Assert.Equal(DeliveryStatus.Permanent, disable.Status);
        Assert.Equal(DeliveryStatus.Permanent, noToken.Status);
    }

    [Fact]
    public void BasicCredentials_FormEncodesIdAndSecret()
    {
        var encoded = Encoding.UTF8.GetString(Convert.FromBase64String(OAuthRevocationConnector.BasicCredentials("my client:1", "a b+c%d/é")));

        Assert.Equal("my+client%3A1:a+b%2Bc%25d%2F%C3%A9", encoded);
    }

    private OAuthRevocationConnector Connector(ConnectorOptions? options = null) => new("oauth-test", options ?? oidc.ConnectorOptions(), Http);

    private static ConnectorRequest Revoke(string token) =>
        new(Guid.NewGuid().ToString("N"), ResponseActionKind.RevokeToken, "workload", Restore: false, Token: token);
}
