using System.Diagnostics;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.Response.Connectors;

namespace AnomalyZT.Tests.Response;

/// <summary>What a connector that disables accounts against a real server (<see cref="ScimConnectorTests"/>,
/// <see cref="LdapConnectorTests"/>) must do: disable and restore idempotently, and report unknown users, a refused
/// credential, an unreachable or silent server and unsupported kinds, all without its secret in a detail. Each test
/// uses its own seeded user: the tests of a class share the server.</summary>
public abstract class DisableConnectorTests
{
    /// <summary>The test's cancellation.</summary>
    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The secret of <see cref="Options"/>, which no detail may contain.</summary>
    protected abstract string Secret { get; }

    /// <summary>What a detail says when the server refuses the credential.</summary>
    protected abstract string RefusedCredential { get; }

    /// <summary>Settings for the server, the secret as a literal reference.</summary>
    protected abstract ConnectorOptions Options(TimeSpan? timeout = null);

    /// <summary>The connector under test, with <paramref name="options"/> or else <see cref="Options"/>.</summary>
    protected abstract IIdpConnector Connector(ConnectorOptions? options = null);

    /// <summary>Points <paramref name="options"/> at <paramref name="port"/> on 127.0.0.1.</summary>
    protected abstract void UsePort(ConnectorOptions options, int port);

    /// <summary>Sets the credential of <paramref name="options"/> to <paramref name="secret"/>.</summary>
    protected abstract void UseSecret(ConnectorOptions options, string secret);

    /// <summary>Asserts, reading the server, that <paramref name="user"/> is disabled.</summary>
    protected abstract Task AssertDisabledAsync(string user);

    /// <summary>Asserts, reading the server, that <paramref name="user"/> is enabled.</summary>
    protected abstract Task AssertEnabledAsync(string user);

    [Fact]
    public async Task Disable_ActiveUser_DisablesItAndNoOther()
    {
        await AssertEnabledAsync("alice");

        var result = await Connector().ExecuteAsync(Disable("alice"), Ct);

        Assert.Equal(DeliveryStatus.Done, result.Status);
        Assert.Contains("alice", result.Detail, StringComparison.Ordinal);
        await AssertDisabledAsync("alice");
        await AssertEnabledAsync("peggy");
    }

    [Fact]
    public async Task Disable_Twice_SecondIsAlreadyInStateAndUserStaysDisabled()
    {
        var connector = Connector();
        Assert.Equal(DeliveryStatus.Done, (await connector.ExecuteAsync(Disable("bob"), Ct)).Status);

        var again = await connector.ExecuteAsync(Disable("bob"), Ct);

        Assert.Equal(DeliveryStatus.AlreadyInState, again.Status);
        Assert.True(again.Succeeded);
        await AssertDisabledAsync("bob");
    }

    [Fact]
    public async Task Restore_DisabledUser_EnablesItAndRepeatIsAlreadyInState()
    {
        var connector = Connector();
        Assert.Equal(DeliveryStatus.Done, (await connector.ExecuteAsync(Disable("carol"), Ct)).Status);
        await AssertDisabledAsync("carol");

        var restored = await connector.ExecuteAsync(Disable("carol", restore: true), Ct);
        var again = await connector.ExecuteAsync(Disable("carol", restore: true), Ct);

        Assert.Equal(DeliveryStatus.Done, restored.Status);
        Assert.Equal(DeliveryStatus.AlreadyInState, again.Status);
        await AssertEnabledAsync("carol");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task DisableOrRestore_UnknownUser_IsPermanentUserNotFound(bool restore)
    {
        var result = await Connector().ExecuteAsync(Disable("nobody", restore), Ct);

        Assert.Equal(DeliveryStatus.Permanent, result.Status);
        Assert.Contains("'nobody' not found", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Disable_WrongCredential_IsPermanentAndUserUnchanged()
    {
        var options = Options();
        UseSecret(options, "wrong-secret-value");

        var result = await Connector(options).ExecuteAsync(Disable("erin"), Ct);

        Assert.Equal(DeliveryStatus.Permanent, result.Status);
        Assert.Contains(RefusedCredential, result.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-secret-value", result.Detail, StringComparison.Ordinal);
        await AssertEnabledAsync("erin");
    }

    [Fact]
    public async Task Disable_ServerDown_IsRetry()
    {
        var options = Options();
        UsePort(options, PeerProcess.FreePort());

        var result = await Connector(options).ExecuteAsync(Disable("frank"), Ct);

        Assert.Equal(DeliveryStatus.Retry, result.Status);
        await AssertEnabledAsync("frank");
    }

    [Fact]
    public async Task Disable_ServerThatNeverAnswers_IsRetryAfterTheTimeout()
    {
        await using var silent = new SilentTcpServer();
        var options = Options(TimeSpan.FromMilliseconds(500));
        UsePort(options, silent.Port);
        var clock = Stopwatch.StartNew();

        var result = await Connector(options).ExecuteAsync(Disable("ivan"), Ct);

        Assert.Equal(DeliveryStatus.Retry, result.Status);
        Assert.Contains("timed out", result.Detail, StringComparison.Ordinal);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(400), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Disable_Cancelled_ThrowsPromptly()
    {
        await using var silent = new SilentTcpServer();
        var options = Options(TimeSpan.FromSeconds(30));
        UsePort(options, silent.Port);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cancel.CancelAfter(200);
        var clock = Stopwatch.StartNew();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Connector(options).ExecuteAsync(Disable("ivan"), cancel.Token));
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Disable_SubjectPattern_MapsTheEngineIdentityToTheUser()
    {
        var options = Options();
        options.SubjectPattern = "^(?<user>[^@]+)@";
        var connector = Connector(options);

        var result = await connector.ExecuteAsync(Disable("heidi@example.org"), Ct);
        var unmapped = await connector.ExecuteAsync(Disable("spiffe://cluster/ns/x/sa/y"), Ct);

        Assert.Equal(DeliveryStatus.Done, result.Status);
        await AssertDisabledAsync("heidi");
        Assert.Equal(DeliveryStatus.Permanent, unmapped.Status);
        Assert.Contains("SubjectPattern", unmapped.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Details_NeverContainTheSecret()
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
        var down = Options();
        UsePort(down, PeerProcess.FreePort());
        details.Add((await Connector(down).ExecuteAsync(Disable("mallory"), Ct)).Detail);

        Assert.All(details, d => Assert.DoesNotContain(Secret, d, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(ResponseActionKind.RevokeSessions)]
    [InlineData(ResponseActionKind.RequireReauth)]
    [InlineData(ResponseActionKind.RevokeToken)]
    [InlineData(ResponseActionKind.Notify)]
    public async Task UnsupportedKind_IsNotSupportedAndPermanentWithoutACall(ResponseActionKind kind)
    {
        // Nothing listens there: a call would be a retry.
        var options = Options();
        UsePort(options, PeerProcess.FreePort());
        var connector = Connector(options);

        var result = await connector.ExecuteAsync(new ConnectorRequest("a1", kind, "oscar", Restore: false), Ct);

        Assert.False(connector.Supports(kind, restore: false));
        Assert.False(connector.Supports(kind, restore: true));
        Assert.True(connector.Supports(ResponseActionKind.Disable, restore: false));
        Assert.True(connector.Supports(ResponseActionKind.Disable, restore: true));
        Assert.Equal(DeliveryStatus.Permanent, result.Status);
    }

    /// <summary>A <see cref="ResponseActionKind.Disable"/> request (or its restore) with a fresh action id.</summary>
    protected static ConnectorRequest Disable(string subject, bool restore = false) =>
        new(Guid.NewGuid().ToString("N"), ResponseActionKind.Disable, subject, restore);
}
