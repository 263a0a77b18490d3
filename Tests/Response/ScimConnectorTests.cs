using System.Net;
using AnomalyZT.Silo.Response.Connectors;

namespace AnomalyZT.Tests.Response;

/// <summary>The SCIM connector against a real SCIM 2.0 server (SCIMMY on Express, <see cref="ScimServerFixture"/>): the
/// tests of <see cref="DisableConnectorTests"/> and the SCIM-only ones. Each test uses its own user: tests of a class
/// share the server.</summary>
public sealed class ScimConnectorTests(ScimServerFixture scim) : DisableConnectorTests, IClassFixture<ScimServerFixture>
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    /// <inheritdoc />
    protected override string Secret => scim.Token;

    /// <inheritdoc />
    protected override string RefusedCredential => "HTTP 401";

    [Fact]
    public async Task Disable_UserDisabledElsewhere_IsAlreadyInState()
    {
        await scim.SetActiveAsync("dave", active: false, Ct);

        var result = await Connector().ExecuteAsync(Disable("dave"), Ct);

        Assert.Equal(DeliveryStatus.AlreadyInState, result.Status);
        Assert.False(await scim.IsActiveAsync("dave", Ct));
    }

    [Fact]
    public async Task Token_FromEnvironmentReference_IsUsed()
    {
        var variable = "ANOMALYZT_TEST_SCIM_TOKEN_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(variable, scim.Token);
        try
        {
            var options = Options();
            options.Token = "env:" + variable;

            var result = await Connector(options).ExecuteAsync(Disable("ivan"), Ct);

            Assert.Equal(DeliveryStatus.Done, result.Status);
            Assert.False(await scim.IsActiveAsync("ivan", Ct));
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public async Task Token_UnsetEnvironmentReference_IsPermanentNamingTheVariable()
    {
        var options = Options();
        options.Token = "env:ANOMALYZT_TEST_UNSET_" + Guid.NewGuid().ToString("N");

        var result = await Connector(options).ExecuteAsync(Disable("judy"), Ct);

        Assert.Equal(DeliveryStatus.Permanent, result.Status);
        Assert.Contains("ANOMALYZT_TEST_UNSET_", result.Detail, StringComparison.Ordinal);
        Assert.True(await scim.IsActiveAsync("judy", Ct));
    }

    [Fact]
    public async Task Details_OfAProviderThatEchoesTheRequest_HaveTheTokenMasked()
    {
        // A provider that echoes the request, Authorization header included.
        using var echo = new HttpClient(new EchoHandler(HttpStatusCode.BadRequest));

        var result = await new ScimConnector("scim-echo", Options(), echo).ExecuteAsync(Disable("oscar"), Ct);

        Assert.DoesNotContain(scim.Token, result.Detail, StringComparison.Ordinal);
        Assert.Contains("***", result.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("alice", "userName eq \"alice\"")]
    [InlineData("a\"b", "userName eq \"a\\\"b\"")]
    [InlineData("a\\b", "userName eq \"a\\\\b\"")]
    [InlineData("a b&c=d", "userName eq \"a b&c=d\"")]
    public void FindUrl_QuotesEscapesAndUrlEncodesTheUserName(string user, string filter)
    {
        var connector = new ScimConnector("scim-test", new ConnectorOptions { BaseUrl = "https://idp.example.org/scim/v2/" }, Http);

        var url = connector.FindUrl(user);

        Assert.Equal("https://idp.example.org/scim/v2/Users?filter=" + Uri.EscapeDataString(filter), url);
        Assert.Equal(filter, Uri.UnescapeDataString(new Uri(url).Query["?filter=".Length..]));
    }

    [Fact]
    public void Constructor_InvalidBaseUrl_Throws() =>
        Assert.Throws<InvalidOperationException>(() => new ScimConnector("scim-test", new ConnectorOptions { BaseUrl = "not a url" }, Http));

    /// <inheritdoc />
    protected override ConnectorOptions Options(TimeSpan? timeout = null) => scim.ConnectorOptions(timeout);

    /// <inheritdoc />
    protected override ScimConnector Connector(ConnectorOptions? options = null) => new("scim-test", options ?? Options(), Http);

    /// <inheritdoc />
    protected override void UsePort(ConnectorOptions options, int port) => options.BaseUrl = $"http://127.0.0.1:{port}/scim/v2";

    /// <inheritdoc />
    protected override void UseSecret(ConnectorOptions options, string secret) => options.Token = secret;

    /// <inheritdoc />
    protected override async Task AssertDisabledAsync(string user) => Assert.False(await scim.IsActiveAsync(user, Ct));

    /// <inheritdoc />
    protected override async Task AssertEnabledAsync(string user) => Assert.True(await scim.IsActiveAsync(user, Ct));
}
