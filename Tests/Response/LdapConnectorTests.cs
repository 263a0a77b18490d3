using System.Diagnostics;
using AnomalyZT.Silo.Response.Connectors;

namespace AnomalyZT.Tests.Response;

/// <summary>The LDAP connector against a real OpenLDAP slapd with the ppolicy overlay (<see cref="LdapServerFixture"/>):
/// the tests of <see cref="DisableConnectorTests"/> and the LDAP-only ones. State is read back with ldap-utils; a locked
/// account's bind is refused by ppolicy. Each test uses its own user.</summary>
public sealed class LdapConnectorTests(LdapServerFixture ldap) : DisableConnectorTests, IClassFixture<LdapServerFixture>
{
    private const string Locked = "000001010000Z";

    /// <inheritdoc />
    protected override string Secret => ldap.Password;

    /// <inheritdoc />
    protected override string RefusedCredential => "49";

    [Fact]
    public async Task Disable_UserWithATemporaryLock_MakesItPermanent()
    {
        var temporary = Options();
        temporary.LockValue = "20991231235959Z";
        Assert.Equal(DeliveryStatus.Done, (await new LdapConnector("ldap-temp", temporary).ExecuteAsync(Disable("dave"), Ct)).Status);
        Assert.Equal("20991231235959Z", await ldap.LockedTimeAsync("dave", Ct));

        var result = await Connector().ExecuteAsync(Disable("dave"), Ct);

        Assert.Equal(DeliveryStatus.Done, result.Status);
        Assert.Equal(Locked, await ldap.LockedTimeAsync("dave", Ct));
    }

    [Fact]
    public async Task Disable_UserWhoseDnNeedsEscaping_LocksThatEntry()
    {
        var user = LdapServerFixture.Users[^1];
        Assert.True(await ldap.CanBindAsync(user, Ct));

        var result = await Connector().ExecuteAsync(Disable(user), Ct);

        Assert.Equal(DeliveryStatus.Done, result.Status);
        Assert.Equal(Locked, await ldap.LockedTimeAsync(user, Ct));
        Assert.False(await ldap.CanBindAsync(user, Ct));
        Assert.Equal(DeliveryStatus.Done, (await Connector().ExecuteAsync(Disable(user, restore: true), Ct)).Status);
        Assert.True(await ldap.CanBindAsync(user, Ct));
    }

    [Fact]
    public async Task Disable_BindAsUserWithoutWriteAccess_IsPermanentInsufficientAccess()
    {
        var options = Options();
        options.BindDn = LdapServerFixture.UserDn("frank");
        options.BindPassword = LdapServerFixture.UserPassword("frank");

        var result = await Connector(options).ExecuteAsync(Disable("grace"), Ct);

        Assert.Equal(DeliveryStatus.Permanent, result.Status);
        Assert.Contains("InsufficientAccessRights", result.Detail, StringComparison.Ordinal);
        Assert.False(await ldap.IsLockedAsync("grace", Ct));
    }

    [Fact]
    public async Task Disable_ServerThatNeverAnswers_CapsTheAbandonedCallsAndReleasesThemWhenItCloses()
    {
        var connector = default(LdapConnector);
        await using (var silent = new SilentTcpServer())
        {
            var options = Options(TimeSpan.FromMilliseconds(300));
            options.Port = silent.Port;
            connector = Connector(options);
            for (var i = 0; i < LdapConnector.MaxAbandoned; i++)
            {
                Assert.Equal(DeliveryStatus.Retry, (await connector.ExecuteAsync(Disable("ivan"), Ct)).Status);
            }

            var clock = Stopwatch.StartNew();
            var capped = await connector.ExecuteAsync(Disable("ivan"), Ct);

            Assert.Equal(DeliveryStatus.Retry, capped.Status);
            Assert.Contains("timed out and have not returned yet", capped.Detail, StringComparison.Ordinal);
            Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromMilliseconds(250));
            Assert.Equal(LdapConnector.MaxAbandoned, connector.Abandoned);
        }

        // The server closed its connections: the blocked binds fail and their threads end.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (connector.Abandoned > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, Ct);
        }

        Assert.Equal(0, connector.Abandoned);
    }

    [Theory]
    [InlineData("alice", "alice")]
    [InlineData("o'brien, jr+1", "o'brien\\, jr\\+1")]
    [InlineData("#admin", "\\#admin")]
    [InlineData("a#b", "a#b")]
    [InlineData(" pad ", "\\ pad\\ ")]
    [InlineData("x=y;z<w>\"q\\", "x\\=y\\;z\\<w\\>\\\"q\\\\")]
    [InlineData("nul\0", "nul\\00")]
    [InlineData("ünï", "ünï")]
    public void EscapeRdnValue_FollowsRfc4514(string value, string escaped) =>
        Assert.Equal(escaped, LdapConnector.EscapeRdnValue(value));

    [Fact]
    public void UserDn_EscapesTheUserInTheTemplate() =>
        Assert.Equal("uid=a\\,b,ou=people,dc=anomalyzt,dc=test", Connector().UserDn("a,b"));

    [Fact]
    public void Constructor_TemplateWithoutUser_Throws()
    {
        var options = Options();
        options.UserDnTemplate = "ou=people,dc=anomalyzt,dc=test";
        Assert.Throws<InvalidOperationException>(() => new LdapConnector("ldap-test", options));
    }

    /// <inheritdoc />
    protected override ConnectorOptions Options(TimeSpan? timeout = null) => ldap.ConnectorOptions(timeout);

    /// <inheritdoc />
    protected override LdapConnector Connector(ConnectorOptions? options = null) => new("ldap-test", options ?? Options());

    /// <inheritdoc />
    protected override void UsePort(ConnectorOptions options, int port) => options.Port = port;

    /// <inheritdoc />
    protected override void UseSecret(ConnectorOptions options, string secret) => options.BindPassword = secret;

    /// <inheritdoc />
    protected override async Task AssertDisabledAsync(string user)
    {
        Assert.Equal(Locked, await ldap.LockedTimeAsync(user, Ct));
        Assert.False(await ldap.CanBindAsync(user, Ct));
    }

    /// <inheritdoc />
    protected override async Task AssertEnabledAsync(string user)
    {
        Assert.Null(await ldap.LockedTimeAsync(user, Ct));
        Assert.True(await ldap.CanBindAsync(user, Ct));
    }
}
