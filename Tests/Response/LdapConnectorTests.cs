using System.Diagnostics;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.Response.Connectors;

namespace AnomalyZT.Tests.Response;

/// <summary>The LDAP connector against a real OpenLDAP slapd with the ppolicy overlay (<see cref="LdapServerFixture"/>).
/// State is read back with ldap-utils; a locked account's bind is refused by ppolicy. Each test uses its own user.</summary>
public sealed class LdapConnectorTests(LdapServerFixture ldap) : IClassFixture<LdapServerFixture>
{
    private const string Locked = "000001010000Z";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Disable_User_WritesTheLockAndItsBindFails()
    {
        Assert.True(await ldap.CanBindAsync("alice", Ct));

        var result = await Connector().ExecuteAsync(Disable("alice"), Ct);

        Assert.Equal(DeliveryStatus.Done, result.Status);
        Assert.Equal(Locked, await ldap.LockedTimeAsync("alice", Ct));
        Assert.False(await ldap.CanBindAsync("alice", Ct));
        Assert.True(await ldap.CanBindAsync("peggy", Ct));
    }

    [Fact]
    public async Task Disable_Twice_SecondIsAlreadyInStateAndLockUnchanged()
    {
        var connector = Connector();
        Assert.Equal(DeliveryStatus.Done, (await connector.ExecuteAsync(Disable("bob"), Ct)).Status);

        var again = await connector.ExecuteAsync(Disable("bob"), Ct);

        Assert.Equal(DeliveryStatus.AlreadyInState, again.Status);
        Assert.Equal(Locked, await ldap.LockedTimeAsync("bob", Ct));
        Assert.False(await ldap.CanBindAsync("bob", Ct));
    }

    [Fact]
    public async Task Restore_LockedUser_RemovesTheLockAndItsBindWorks()
    {
        var connector = Connector();
        Assert.Equal(DeliveryStatus.Done, (await connector.ExecuteAsync(Disable("carol"), Ct)).Status);
        Assert.False(await ldap.CanBindAsync("carol", Ct));

        var restored = await connector.ExecuteAsync(Disable("carol", restore: true), Ct);
        var again = await connector.ExecuteAsync(Disable("carol", restore: true), Ct);

        Assert.Equal(DeliveryStatus.Done, restored.Status);
        Assert.Null(await ldap.LockedTimeAsync("carol", Ct));
        Assert.True(await ldap.CanBindAsync("carol", Ct));
        Assert.Equal(DeliveryStatus.AlreadyInState, again.Status);
    }

    [Fact]
    public async Task Disable_UserWithATemporaryLock_MakesItPermanent()
    {
        var temporary = ldap.ConnectorOptions();
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
    public async Task Disable_UnknownUser_IsPermanentUserNotFound()
    {
        var result = await Connector().ExecuteAsync(Disable("nobody"), Ct);

        Assert.Equal(DeliveryStatus.Permanent, result.Status);
        Assert.Contains("'nobody' not found", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restore_UnknownUser_IsPermanentUserNotFound()
    {
        var result = await Connector().ExecuteAsync(Disable("nobody", restore: true), Ct);

        Assert.Equal(DeliveryStatus.Permanent, result.Status);
        Assert.Contains("'nobody' not found", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Disable_WrongBindPassword_IsPermanentAndUserUnchanged()
    {
        var options = ldap.ConnectorOptions();
        options.BindPassword = "wrong-password-value";

        var result = await Connector(options).ExecuteAsync(Disable("erin"), Ct);

        Assert.Equal(DeliveryStatus.Permanent, result.Status);
        Assert.Contains("49", result.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-password-value", result.Detail, StringComparison.Ordinal);
        Assert.False(await ldap.IsLockedAsync("erin", Ct));
    }

    [Fact]
    public async Task Disable_BindAsUserWithoutWriteAccess_IsPermanentInsufficientAccess()
    {
        var options = ldap.ConnectorOptions();
        options.BindDn = LdapServerFixture.UserDn("frank");
        options.BindPassword = LdapServerFixture.UserPassword("frank");

        var result = await Connector(options).ExecuteAsync(Disable("grace"), Ct);

        Assert.Equal(DeliveryStatus.Permanent, result.Status);
        Assert.Contains("InsufficientAccessRights", result.Detail, StringComparison.Ordinal);
        Assert.False(await ldap.IsLockedAsync("grace", Ct));
    }

    [Fact]
    public async Task Disable_ServerDown_IsRetry()
    {
        var options = ldap.ConnectorOptions();
        options.Port = PeerProcess.FreePort();

        var result = await Connector(options).ExecuteAsync(Disable("heidi"), Ct);

        Assert.Equal(DeliveryStatus.Retry, result.Status);
        Assert.False(await ldap.IsLockedAsync("heidi", Ct));
    }

    [Fact]
    public async Task Disable_ServerThatNeverAnswers_IsRetryWithinTheTimeout()
    {
        await using var silent = new SilentTcpServer();
        var options = ldap.ConnectorOptions(TimeSpan.FromMilliseconds(700));
        options.Port = silent.Port;
        var clock = Stopwatch.StartNew();

        var result = await Connector(options).ExecuteAsync(Disable("ivan"), Ct);

        Assert.Equal(DeliveryStatus.Retry, result.Status);
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Disable_ServerThatNeverAnswers_CapsTheAbandonedCallsAndReleasesThemWhenItCloses()
    {
        var connector = default(LdapConnector);
        await using (var silent = new SilentTcpServer())
        {
            var options = ldap.ConnectorOptions(TimeSpan.FromMilliseconds(300));
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

    [Fact]
    public async Task Disable_Cancelled_ThrowsPromptly()
    {
        await using var silent = new SilentTcpServer();
        var options = ldap.ConnectorOptions(TimeSpan.FromSeconds(30));
        options.Port = silent.Port;
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cancel.CancelAfter(200);
        var clock = Stopwatch.StartNew();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Connector(options).ExecuteAsync(Disable("ivan"), cancel.Token));
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Disable_SubjectPattern_MapsTheEngineIdentityToTheUid()
    {
        var options = ldap.ConnectorOptions();
        options.SubjectPattern = "^(?<user>[^@]+)@";

        var result = await Connector(options).ExecuteAsync(Disable("judy@anomalyzt.test"), Ct);

        Assert.Equal(DeliveryStatus.Done, result.Status);
        Assert.True(await ldap.IsLockedAsync("judy", Ct));
    }

    [Fact]
    public async Task Details_NeverContainTheBindPassword()
    {
        var connector = Connector();
        var details = new List<string>
        {
            (await connector.ExecuteAsync(Disable("mallory"), Ct)).Detail,
            (await connector.ExecuteAsync(Disable("mallory"), Ct)).Detail,
            (await connector.ExecuteAsync(Disable("mallory", restore: true), Ct)).Detail,
            (await connector.ExecuteAsync(Disable("mallory", restore: true), Ct)).Detail,
            (await connector.ExecuteAsync(Disable("nobody"), Ct)).Detail,
        };
        var down = ldap.ConnectorOptions();
        down.Port = PeerProcess.FreePort();
        details.Add((await Connector(down).ExecuteAsync(Disable("mallory"), Ct)).Detail);

        Assert.All(details, d => Assert.DoesNotContain(ldap.Password, d, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(ResponseActionKind.RevokeSessions)]
    [InlineData(ResponseActionKind.RequireReauth)]
    [InlineData(ResponseActionKind.RevokeToken)]
    public async Task UnsupportedKind_IsNotSupportedAndPermanent(ResponseActionKind kind)
    {
        var connector = Connector();

        var result = await connector.ExecuteAsync(new ConnectorRequest("a1", kind, "oscar", Restore: false), Ct);

        Assert.False(connector.Supports(kind, restore: false));
        Assert.True(connector.Supports(ResponseActionKind.Disable, restore: true));
        Assert.Equal(DeliveryStatus.Permanent, result.Status);
        Assert.False(await ldap.IsLockedAsync("oscar", Ct));
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
        var options = ldap.ConnectorOptions();
        options.UserDnTemplate = "ou=people,dc=anomalyzt,dc=test";
        Assert.Throws<InvalidOperationException>(() => new LdapConnector("ldap-test", options));
    }

    private LdapConnector Connector(ConnectorOptions? options = null) => new("ldap-test", options ?? ldap.ConnectorOptions());

    private static ConnectorRequest Disable(string subject, bool restore = false) =>
        new(Guid.NewGuid().ToString("N"), ResponseActionKind.Disable, subject, restore);
}
