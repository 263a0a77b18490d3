using System.Diagnostics;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.Response.Connectors;

namespace AnomalyZT.Tests.Response;

/// <summary>The SCIM connector against a real SCIM 2.0 server (SCIMMY on Express, <see cref="ScimServerFixture"/>).
/// Each test uses its own user: tests of a class share the server.</summary>
public sealed class ScimConnectorTests(ScimServerFixture scim) : IClassFixture<ScimServerFixture>
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Disable_ActiveUser_DeactivatesIt()
    {
        Assert.True(await scim.IsActiveAsync("alice", Ct));

        var result = await Connector().ExecuteAsync(Disable("alice"), Ct);

        Assert.Equal(DeliveryStatus.Done, result.Status);
        Assert.Contains("alice", result.Detail, StringComparison.Ordinal);
        Assert.False(await scim.IsActiveAsync("alice", Ct));
        Assert.True(await scim.IsActiveAsync("peggy", Ct));
    }

    [Fact]
    public async Task Disable_Twice_SecondIsAlreadyInStateAndUserStaysInactive()
    {
        var connector = Connector();
        Assert.Equal(DeliveryStatus.Done, (await connector.ExecuteAsync(Disable("bob"), Ct)).Status);

        var again = await connector.ExecuteAsync(Disable("bob"), Ct);

        Assert.Equal(DeliveryStatus.AlreadyInState, again.Status);
        Assert.True(again.Succeeded);
        Assert.False(await scim.IsActiveAsync("bob", Ct));
    }

    [Fact]
    public async Task Restore_DisabledUser_ActivatesItAndRepeatIsAlreadyInState()
    {
        var connector = Connector();
        Assert.Equal(DeliveryStatus.Done, (await connector.ExecuteAsync(Disable("carol"), Ct)).Status);
        Assert.False(await scim.IsActiveAsync("carol", Ct));

        var restored = await connector.ExecuteAsync(Disable("carol", restore: true), Ct);
        var again = await connector.ExecuteAsync(Disable("carol", restore: true), Ct);

        Assert.Equal(DeliveryStatus.Done, restored.Status);
        Assert.True(await scim.IsActiveAsync("carol", Ct));
        Assert.Equal(DeliveryStatus.AlreadyInState, again.Status);
        Assert.True(await scim.IsActiveAsync("carol", Ct));
    }

    [Fact]
    public async Task Disable_UserDisabledElsewhere_IsAlreadyInState()
    {
        await scim.SetActiveAsync("dave", active: false, Ct);

        var result = await Connector().ExecuteAsync(Disable("dave"), Ct);

        Assert.Equal(DeliveryStatus.AlreadyInState, result.Status);
        Assert.False(await scim.IsActiveAsync("dave", Ct));
    }

    [Fact]
    public async Task Disable_UnknownUser_IsPermanentUserNotFound()
    {
        var result = await Connector().ExecuteAsync(Disable("nobody"), Ct);

        Assert.Equal(DeliveryStatus.Permanent, result.Status);
        Assert.Contains("'nobody' not found", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Disable_WrongToken_IsPermanent401AndUserUnchanged()
    {
        var options = scim.ConnectorOptions();
        options.Token = "wrong-token-value";

        var result = await Connector(options).ExecuteAsync(Disable("erin"), Ct);

        Assert.Equal(DeliveryStatus.Permanent, result.Status);
        Assert.Contains("HTTP 401", result.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-token-value", result.Detail, StringComparison.Ordinal);
        Assert.True(await scim.IsActiveAsync("erin", Ct));
    }

    [Fact]
    public async Task Disable_ServerDown_IsRetry()
    {
        var options = scim.ConnectorOptions();
        options.BaseUrl = $"http://127.0.0.1:{PeerProcess.FreePort()}/scim/v2";

        var result = await Connector(options).ExecuteAsync(Disable("frank"), Ct);

        Assert.Equal(DeliveryStatus.Retry, result.Status);
        Assert.True(await scim.IsActiveAsync("frank", Ct));
    }

    [Fact]
    public async Task Disable_ServerThatNeverAnswers_IsRetryAfterTheTimeout()
    {
        await using var silent = new SilentTcpServer();
        var options = scim.ConnectorOptions(TimeSpan.FromMilliseconds(500));
        options.BaseUrl = $"http://127.0.0.1:{silent.Port}/scim/v2";
        var clock = Stopwatch.StartNew();

        var result = await Connector(options).ExecuteAsync(Disable("grace"), Ct);

        Assert.Equal(DeliveryStatus.Retry, result.Status);
        Assert.Contains("timed out", result.Detail, StringComparison.Ordinal);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(400), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Disable_Cancelled_Throws()
    {
        await using var silent = new SilentTcpServer();
        var options = scim.ConnectorOptions(TimeSpan.FromSeconds(30));
        options.BaseUrl = $"http://127.0.0.1:{silent.Port}/scim/v2";
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cancel.CancelAfter(200);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Connector(options).ExecuteAsync(Disable("grace"), cancel.Token));
    }

    [Fact]
    public async Task Disable_SubjectPattern_MapsTheEngineIdentityToTheUserName()
    {
        var options = scim.ConnectorOptions();
        options.SubjectPattern = "^(?<user>[^@]+)@";
        var connector = Connector(options);

        var result = await connector.ExecuteAsync(Disable("heidi@example.org"), Ct);
        var unmapped = await connector.ExecuteAsync(Disable("spiffe://cluster/ns/x/sa/y"), Ct);

        Assert.Equal(DeliveryStatus.Done, result.Status);
        Assert.False(await scim.IsActiveAsync("heidi", Ct));
        Assert.Equal(DeliveryStatus.Permanent, unmapped.Status);
        Assert.Contains("SubjectPattern", unmapped.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Token_FromEnvironmentReference_IsUsed()
    {
        var variable = "ANOMALYZT_TEST_SCIM_TOKEN_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(variable, scim.Token);
        try
        {
            var options = scim.ConnectorOptions();
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
        var options = scim.ConnectorOptions();
        options.Token = "env:ANOMALYZT_TEST_UNSET_" + Guid.NewGuid().ToString("N");

        var result = await Connector(options).ExecuteAsync(Disable("judy"), Ct);

        Assert.Equal(DeliveryStatus.Permanent, result.Status);
        Assert.Contains("ANOMALYZT_TEST_UNSET_", result.Detail, StringComparison.Ordinal);
        Assert.True(await scim.IsActiveAsync("judy", Ct));
    }

    [Theory]
    [InlineData(ResponseActionKind.RevokeSessions)]
    [InlineData(ResponseActionKind.RequireReauth)]
    [InlineData(ResponseActionKind.RevokeToken)]
    [InlineData(ResponseActionKind.Notify)]
    public async Task UnsupportedKind_IsNotSupportedAndPermanentWithoutACall(ResponseActionKind kind)
    {
        var options = scim.ConnectorOptions();
        options.BaseUrl = $"http://127.0.0.1:{PeerProcess.FreePort()}/scim/v2";
        var connector = Connector(options);

        var result = await connector.ExecuteAsync(new ConnectorRequest("a1", kind, "mallory", Restore: false), Ct);

        Assert.False(connector.Supports(kind, restore: false));
        Assert.False(connector.Supports(kind, restore: true));
        Assert.True(connector.Supports(ResponseActionKind.Disable, restore: false));
        Assert.True(connector.Supports(ResponseActionKind.Disable, restore: true));
        Assert.Equal(DeliveryStatus.Permanent, result.Status);
    }

    [Fact]
    public async Task Details_NeverContainTheToken()
    {
        var connector = Connector();
        var details = new List<string>
        {
            (await connector.ExecuteAsync(Disable("oscar"), Ct)).Detail,
            (await connector.ExecuteAsync(Disable("oscar"), Ct)).Detail,
            (await connector.ExecuteAsync(Disable("oscar", restore: true), Ct)).Detail,
            (await connector.ExecuteAsync(Disable("nobody"), Ct)).Detail,
        };
        var down = scim.ConnectorOptions();
        down.BaseUrl = $"http://127.0.0.1:{PeerProcess.FreePort()}/scim/v2";
        details.Add((await Connector(down).ExecuteAsync(Disable("oscar"), Ct)).Detail);

        // A provider that echoes the request, Authorization header included.
        using var echo = new HttpClient(new EchoHandler(System.Net.HttpStatusCode.BadRequest));
        details.Add((await new ScimConnector("scim-echo", scim.ConnectorOptions(), echo).ExecuteAsync(Disable("oscar"), Ct)).Detail);

        Assert.All(details, d => Assert.DoesNotContain(scim.Token, d, StringComparison.Ordinal));
        Assert.Contains(details, d => d.Contains("***", StringComparison.Ordinal));
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

    private ScimConnector Connector(ConnectorOptions? options = null) => new("scim-test", options ?? scim.ConnectorOptions(), Http);

    private static ConnectorRequest Disable(string subject, bool restore = false) =>
        new(Guid.NewGuid().ToString("N"), ResponseActionKind.Disable, subject, restore);
}
