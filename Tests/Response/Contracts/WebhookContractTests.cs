// Webhook contract: the shapes are this project's own (WebhookConnector's documentation), following the common
// practice of signed webhooks: HMAC-SHA256 (RFC 2104, FIPS 180-4) over "{timestamp}.{body}" with the timestamp in a
// header and a bounded clock skew against replays, and an Idempotency-Key header as in the IETF httpapi draft
// "The Idempotency-Key HTTP Header Field". HTTP semantics (2xx, 429, 503, Retry-After) per RFC 9110.

using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.Response.Connectors;

namespace AnomalyZT.Tests.Response.Contracts;

public sealed class WebhookContractTests(ProviderStub stub) : ProviderContractTests(stub), IClassFixture<ProviderStub>
{
    private const string Key = "whsec-6a0f3b2c9d8e7f6a5b4c3d2e1f0a9b8c";

    protected override StubResponse Handle(RecordedRequest r) => StubResponse.Empty(204);

    private static string Seconds(DateTimeOffset t) => t.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);

    private WebhookConnector Connector(string key = Key, string pattern = "") =>
        new("soar", new ConnectorOptions
        {
            Type = ConnectorTypes.Webhook,
            BaseUrl = Stub.Url + "/hooks/anomalyzt",
            HmacKey = key,
            SubjectPattern = pattern,
        }, Http, Time);

    [Fact]
    public async Task Disable_PostsTheDocumentedBody_AndHeaders()
    {
        var result = await Connector().ExecuteAsync(Contract.Request(ResponseActionKind.Disable, "alice@example.org"), Contract.Ct);

        Assert.Equal(DeliveryStatus.Done, result.Status);
        var r = Assert.Single(Stub.Requests);
        Assert.Equal("POST", r.Method);
        Assert.Equal("/hooks/anomalyzt", r.RawTarget);
        Assert.Equal("application/json", r.Header("Content-Type"));
        Assert.Equal(Seconds(Contract.T0), r.Header(WebhookConnector.TimestampHeader));
        Assert.Equal(Contract.ActionId, r.Header(WebhookConnector.IdempotencyHeader));
        Assert.Equal(
            $$"""{"id":"{{Contract.ActionId}}","kind":"Disable","subject":"alice@example.org","restore":false,"timestamp":{{Seconds(Contract.T0)}}}""",
            r.Body);

        // The signature is the documented HMAC, computed independently here.
        var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Key),
            Encoding.UTF8.GetBytes(Seconds(Contract.T0) + "." + r.Body)));
        Assert.Equal(expected, r.Header(WebhookConnector.SignatureHeader));
    }

    [Fact]
    public async Task Signature_VerifiesWithTheKey_AndFailsWithAnotherKeyOrAModifiedBody()
    {
        await Connector().ExecuteAsync(Contract.Request(ResponseActionKind.RevokeSessions, "alice@example.org"), Contract.Ct);
        var r = Assert.Single(Stub.Requests);
        var timestamp = r.Header(WebhookConnector.TimestampHeader)!;
        var signature = r.Header(WebhookConnector.SignatureHeader)!;

        Assert.True(WebhookConnector.Verify(Key, timestamp, signature, r.BodyBytes, Contract.T0));
        Assert.True(WebhookConnector.Verify(Key, timestamp, signature, r.Body, Contract.T0));
        Assert.False(WebhookConnector.Verify("whsec-another-key-000000000000000000", timestamp, signature, r.BodyBytes, Contract.T0));
        Assert.False(WebhookConnector.Verify(Key, timestamp, signature, r.Body.Replace("alice", "mallory", StringComparison.Ordinal), Contract.T0));
        Assert.False(WebhookConnector.Verify(Key, Seconds(Contract.T0.AddSeconds(1)), signature, r.BodyBytes, Contract.T0));
        Assert.False(WebhookConnector.Verify(Key, timestamp, signature[..^1] + (signature[^1] == '0' ? '1' : '0'), r.BodyBytes, Contract.T0));
        Assert.False(WebhookConnector.Verify(Key, timestamp, "sha256=not-hex", r.BodyBytes, Contract.T0));
        Assert.False(WebhookConnector.Verify(Key, timestamp, signature.Replace("sha256=", "sha1=", StringComparison.Ordinal), r.BodyBytes, Contract.T0));
        Assert.False(WebhookConnector.Verify(Key, "-5", signature, r.BodyBytes, Contract.T0));
    }

    [Fact]
    public async Task Verify_RejectsAReplayOutsideTheSkew_AcceptsWithin()
    {
        await Connector().ExecuteAsync(Contract.Request(ResponseActionKind.Disable, "alice@example.org"), Contract.Ct);
        var r = Assert.Single(Stub.Requests);
        var timestamp = r.Header(WebhookConnector.TimestampHeader)!;
        var signature = r.Header(WebhookConnector.SignatureHeader)!;

        Assert.True(WebhookConnector.Verify(Key, timestamp, signature, r.BodyBytes, Contract.T0.AddMinutes(4)));
        Assert.True(WebhookConnector.Verify(Key, timestamp, signature, r.BodyBytes, Contract.T0.AddMinutes(-4)));
        Assert.False(WebhookConnector.Verify(Key, timestamp, signature, r.BodyBytes, Contract.T0.AddMinutes(6)));
        Assert.False(WebhookConnector.Verify(Key, timestamp, signature, r.BodyBytes, Contract.T0.AddMinutes(-6)));
        Assert.False(WebhookConnector.Verify(Key, timestamp, signature, r.BodyBytes, Contract.T0.AddSeconds(31), TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task RevokeToken_SendsOnlyTheFingerprint()
    {
        const string token = "ya29.a0AfB_byC-access-token-to-revoke";

        var result = await Connector().ExecuteAsync(Contract.Request(ResponseActionKind.RevokeToken, "alice@example.org", token: token), Contract.Ct);

        Assert.Equal(DeliveryStatus.Done, result.Status);
        var r = Assert.Single(Stub.Requests);
        var body = Contract.Json(r.Body);
        Assert.Equal("RevokeToken", body.GetProperty("kind").GetString());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token))), body.GetProperty("tokenSha256").GetString());
        Assert.DoesNotContain(token, r.Everything);
        Assert.DoesNotContain(token, result.Detail);
    }

    [Fact]
    public async Task RevokeToken_WithoutAToken_IsPermanent()
    {
        var result = await Connector().ExecuteAsync(Contract.Request(ResponseActionKind.RevokeToken, "alice@example.org"), Contract.Ct);

        Assert.Equal(DeliveryStatus.Permanent, result.Status);
        Assert.Empty(Stub.Requests);
    }

    [Fact]
    public async Task Restore_SaysSo_WithItsOwnIdempotencyKey()
    {
        await Connector().ExecuteAsync(Contract.Request(ResponseActionKind.Disable, "alice@example.org"), Contract.Ct);
        await Connector().ExecuteAsync(Contract.Request(ResponseActionKind.Disable, "alice@example.org", restore: true), Contract.Ct);

        var apply = Stub.Requests[0];
        var restore = Stub.Requests[1];
        Assert.False(Contract.Json(apply.Body).GetProperty("restore").GetBoolean());
        Assert.True(Contract.Json(restore.Body).GetProperty("restore").GetBoolean());
        Assert.Equal(Contract.ActionId, apply.Header(WebhookConnector.IdempotencyHeader));
        Assert.Equal(Contract.ActionId + ".restore", restore.Header(WebhookConnector.IdempotencyHeader));
    }

    [Fact]
    public async Task Retries_SendTheSameIdempotencyKey()
    {
        var connector = Connector();
        await connector.ExecuteAsync(Contract.Request(ResponseActionKind.Disable, "alice@example.org"), Contract.Ct);
        Time.Advance(TimeSpan.FromSeconds(30));
        await connector.ExecuteAsync(Contract.Request(ResponseActionKind.Disable, "alice@example.org"), Contract.Ct);

        Assert.Equal(2, Stub.Requests.Select(r => r.Header(WebhookConnector.IdempotencyHeader)).Where(k => k == Contract.ActionId).Count());
        Assert.NotEqual(Stub.Requests[0].Header(WebhookConnector.TimestampHeader), Stub.Requests[1].Header(WebhookConnector.TimestampHeader));
    }

    [Fact]
    public async Task SubjectPattern_MapsTheSubject()
    {
        await Connector(pattern: "^(?<user>[^@]+)@").ExecuteAsync(Contract.Request(ResponseActionKind.Notify, "alice@example.org"), Contract.Ct);

        Assert.Equal("alice", Contract.Json(Stub.Requests[0].Body).GetProperty("subject").GetString());
    }

    [Theory]
    [InlineData(503, DeliveryStatus.Retry)]
    [InlineData(429, DeliveryStatus.Retry)]
    [InlineData(500, DeliveryStatus.Retry)]
    [InlineData(400, DeliveryStatus.Permanent)]
    [InlineData(401, DeliveryStatus.Permanent)]
    [InlineData(404, DeliveryStatus.Permanent)]
    [InlineData(200, DeliveryStatus.Done)]
    [InlineData(202, DeliveryStatus.Done)]
    public async Task Answers_MapToResults(int status, DeliveryStatus expected)
    {
        Override = _ => StubResponse.Json(status, """{"message":"receiver says"}""", ("Retry-After", "5"));

        var result = await Connector().ExecuteAsync(Contract.Request(ResponseActionKind.Disable, "alice@example.org"), Contract.Ct);

        Assert.Equal(expected, result.Status);
        if (expected == DeliveryStatus.Retry)
        {
            Assert.Contains("retry after 5 s", result.Detail);
        }
    }

    [Fact]
    public async Task ReceiverEchoingTheKey_NeverPutsItInTheDetail()
    {
        Override = _ => StubResponse.Json(401, $$"""{"message":"bad signature for key {{Key}}"}""");

        var result = await Connector().ExecuteAsync(Contract.Request(ResponseActionKind.Disable, "alice@example.org"), Contract.Ct);

        Assert.Equal(DeliveryStatus.Permanent, result.Status);
        Assert.DoesNotContain(Key, result.Detail);
        Assert.DoesNotContain(Key, Stub.Requests[0].Everything);
    }

    [Fact]
    public async Task KeyFromTheEnvironment_Signs_AndAnUnsetVariableIsPermanent()
    {
        var variable = "ANOMALYZT_TEST_HMAC_" + Guid.NewGuid().ToString("N");
        var missing = await Connector(key: "env:" + variable).ExecuteAsync(Contract.Request(ResponseActionKind.Disable, "alice"), Contract.Ct);
        Assert.Equal(DeliveryStatus.Permanent, missing.Status);
        Assert.Contains("Response:Connectors:soar:HmacKey", missing.Detail);
        Assert.Empty(Stub.Requests);

        Environment.SetEnvironmentVariable(variable, Key);
        try
        {
            var result = await Connector(key: "env:" + variable).ExecuteAsync(Contract.Request(ResponseActionKind.Disable, "alice"), Contract.Ct);
            Assert.Equal(DeliveryStatus.Done, result.Status);
            var r = Assert.Single(Stub.Requests);
            Assert.True(WebhookConnector.Verify(Key, r.Header(WebhookConnector.TimestampHeader)!, r.Header(WebhookConnector.SignatureHeader)!, r.BodyBytes, Contract.T0));
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public void Supports_EveryKind_AppliedAndRestored()
    {
        var connector = Connector();
        foreach (var kind in Enum.GetValues<ResponseActionKind>())
        {
            Assert.True(connector.Supports(kind, false));
            Assert.True(connector.Supports(kind, true));
        }
    }

    [Fact]
    public async Task NetworkError_IsRetry()
    {
        var connector = new WebhookConnector("soar", new ConnectorOptions { Type = ConnectorTypes.Webhook, BaseUrl = Contract.ClosedPortUrl() + "/hook", HmacKey = Key }, Http, Time);

        var result = await connector.ExecuteAsync(Contract.Request(ResponseActionKind.Disable, "alice"), Contract.Ct);

        Assert.Equal(DeliveryStatus.Retry, result.Status);
        Assert.DoesNotContain(Key, result.Detail);
    }
}
