// Keycloak contract: the request and response shapes come from
//  - Keycloak Admin REST API reference, https://www.keycloak.org/docs-api/latest/rest-api/index.html
//    (GET /admin/realms/{realm}/users?username=&exact=, GET|PUT /admin/realms/{realm}/users/{user-id},
//     POST /admin/realms/{realm}/users/{user-id}/logout; UserRepresentation; PUT and logout answer 204 No Content)
//  - Keycloak 24.0.4 release notes / upgrading guide, "Partial update to user attributes when updating users through the
//    Admin User API is no longer supported" (why Disable writes back the whole representation)
//  - Keycloak "Securing applications" OIDC endpoints, token endpoint /realms/{realm}/protocol/openid-connect/token, and
//    RFC 6749 §4.4 (client credentials grant: form grant_type, client_id, client_secret; JSON access_token, expires_in)

using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.Response.Connectors;

namespace AnomalyZT.Tests.Response.Contracts;

public sealed class KeycloakContractTests(ProviderStub stub) : ProviderContractTests(stub), IClassFixture<ProviderStub>
{
    private const string ClientSecret = "kc-client-secret-7f3a9d";
    private const string StaticToken = "kc-static-token-51ce02";
    private const string AliceId = "6f1c1f7e-3c1b-4d8e-9a57-2b1f9e0c4a11";

    private readonly List<string> _issued = [];
    private bool _aliceEnabled = true;

    private static string AliceRepresentation(bool enabled) => $$"""
        {"id":"{{AliceId}}","createdTimestamp":1763629200000,"username":"alice","enabled":{{(enabled ? "true" : "false")}},
         "totp":false,"emailVerified":true,"firstName":"Alice","lastName":"Liddell","email":"alice@example.org",
         "attributes":{"department":["ml-platform"],"employeeNumber":["4711"]},
         "disableableCredentialTypes":[],"requiredActions":[],"notBefore":0,
         "access":{"manageGroupMembership":true,"view":true,"mapRoles":true,"impersonate":false,"manage":true} }
        """;

    protected override StubResponse Handle(RecordedRequest r)
    {
        if (r.Method == "POST" && r.Path == "/realms/acme/protocol/openid-connect/token")
        {
            if (r.Form.GetValueOrDefault("client_secret") != ClientSecret)
            {
                return StubResponse.Json(401, """{"error":"unauthorized_client","error_description":"Invalid client or Invalid client credentials"}""");
            }

            string token;
            lock (_issued)
            {
                token = $"kc-access-{_issued.Count + 1}";
                _issued.Add(token);
            }

            return StubResponse.Json(200, $$"""{"access_token":"{{token}}","expires_in":300,"refresh_expires_in":0,"token_type":"Bearer","not-before-policy":0,"scope":"profile email"}""");
        }

        var auth = r.Header("Authorization");
        bool known;
        lock (_issued)
        {
            known = auth == "Bearer " + StaticToken || _issued.Any(t => auth == "Bearer " + t);
        }

        if (!known)
        {
            return StubResponse.Json(401, """{"error":"HTTP 401 Unauthorized"}""");
        }

        return (r.Method, r.Path) switch
        {
            ("GET", "/admin/realms/acme/users") when r.Query == "?username=alice&exact=true" =>
                StubResponse.Json(200, "[" + AliceRepresentation(_aliceEnabled) + "]"),
            ("GET", "/admin/realms/acme/users") => StubResponse.Json(200, "[]"),
            ("GET", "/admin/realms/acme/users/" + AliceId) => StubResponse.Json(200, AliceRepresentation(_aliceEnabled)),
            ("PUT", "/admin/realms/acme/users/" + AliceId) => Update(r),
            ("POST", "/admin/realms/acme/users/" + AliceId + "/logout") => StubResponse.Empty(204),
            _ => StubResponse.Json(404, """{"error":"User not found"}"""),
        };
    }

    private StubResponse Update(RecordedRequest r)
    {
        _aliceEnabled = Contract.Json(r.Body).GetProperty("enabled").GetBoolean();
        return StubResponse.Empty(204);
    }

    private KeycloakConnector ClientCredentials(string? secret = null, string? baseUrl = null, TimeSpan? timeout = null) =>
        new("kc", new ConnectorOptions
        {
            Type = ConnectorTypes.Keycloak,
            BaseUrl = baseUrl ?? Stub.Url + "/",
            Realm = "acme",
            ClientId = "anomalyzt",
            ClientSecret = secret ?? ClientSecret,
            SubjectPattern = "^(?<user>[^@]+)@",
            Timeout = timeout ?? TimeSpan.FromSeconds(5),
        }, Http, Time);

    private KeycloakConnector Static(string token = StaticToken) =>
        new("kc", new ConnectorOptions { Type = ConnectorTypes.Keycloak, BaseUrl = Stub.Url, Realm = "acme", Token = token }, Http, Time);

    [Fact]
    public async Task RevokeSessions_FetchesToken_FindsUserExactly_AndPostsLogout()
    {
        var result = await ClientCredentials().ExecuteAsync(Contract.Request(ResponseActionKind.RevokeSessions, "alice@example.org"), Contract.Ct);

        Assert.Equal(DeliveryStatus.Done, result.Status);
        var requests = Stub.Requests;
        Assert.Equal(3, requests.Count);

        var token = requests[0];
        Assert.Equal("POST", token.Method);
        Assert.Equal("/realms/acme/protocol/openid-connect/token", token.Path);
        Assert.StartsWith("application/x-www-form-urlencoded", token.Header("Content-Type"));
        Assert.Equal("client_credentials", token.Form["grant_type"]);
        Assert.Equal("anomalyzt", token.Form["client_id"]);
        Assert.Equal(ClientSecret, token.Form["client_secret"]);
        Assert.Null(token.Header("Authorization"));

        var find = requests[1];
        Assert.Equal("GET", find.Method);
        Assert.Equal("/admin/realms/acme/users?username=alice&exact=true", find.RawTarget);
        Assert.Equal("Bearer kc-access-1", find.Header("Authorization"));

        var logout = requests[2];
        Assert.Equal("POST", logout.Method);
        Assert.Equal($"/admin/realms/acme/users/{AliceId}/logout", logout.RawTarget);
        Assert.Equal("Bearer kc-access-1", logout.Header("Authorization"));
        Assert.Empty(logout.BodyBytes);
        Assert.DoesNotContain(ClientSecret, result.Detail);
    }

    [Fact]
    public async Task RequireReauth_IsTheSameLogout()
    {
        var result = await ClientCredentials().ExecuteAsync(Contract.Request(ResponseActionKind.RequireReauth, "alice@example.org"), Contract.Ct);

        Assert.Equal(DeliveryStatus.Done, result.Status);
        Assert.Equal($"/admin/realms/acme/users/{AliceId}/logout", Stub.Requests[^1].Path);
        Assert.Equal("POST", Stub.Requests[^1].Method);
    }

    [Fact]
    public async Task Token_IsCachedAcrossCalls_AndFetchedAgainShortlyBeforeExpiry()
    {
        var connector = ClientCredentials();
        for (var i = 0; i < 3; i++)
        {
            var result = await connector.ExecuteAsync(Contract.Request(ResponseActionKind.RevokeSessions, "alice@example.org"), Contract.Ct);
            Assert.Equal(DeliveryStatus.Done, result.Status);
            Time.Advance(TimeSpan.FromSeconds(60));
        }

        Assert.Single(Stub.Requests, r => r.Path.EndsWith("/token", StringComparison.Ordinal));

        // expires_in 300: the calls at 0, 60 and 120 s share one token; at 275 s (inside the last 30 s) a new one is fetched.
        Time.Advance(TimeSpan.FromSeconds(95));
        await connector.ExecuteAsync(Contract.Request(ResponseActionKind.RevokeSessions, "alice@example.org"), Contract.Ct);
        Assert.Equal(2, Stub.Requests.Count(r => r.Path.EndsWith("/token", StringComparison.Ordinal)));
        Assert.Equal("Bearer kc-access-2", Stub.Requests[^1].Header("Authorization"));
    }

    [Fact]
    public async Task Token_ConcurrentCalls_ShareOneTokenRequest()
    {
        var connector = ClientCredentials();
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
            connector.ExecuteAsync(Contract.Request(ResponseActionKind.RevokeSessions, "alice@example.org"), Contract.Ct)));

        Assert.All(results, r => Assert.Equal(DeliveryStatus.Done, r.Status));
        Assert.Single(Stub.Requests, r => r.Path.EndsWith("/token", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Disable_ReadsUser_AndPutsTheWholeRepresentationWithEnabledFalse()
    {
        var result = await ClientCredentials().ExecuteAsync(Contract.Request(ResponseActionKind.Disable, "alice@example.org"), Contract.Ct);

        Assert.Equal(DeliveryStatus.Done, result.Status);
        Assert.False(_aliceEnabled);
        var read = Stub.Requests[^2];
        Assert.Equal("GET", read.Method);
        Assert.Equal($"/admin/realms/acme/users/{AliceId}", read.RawTarget);
        var put = Stub.Requests[^1];
        Assert.Equal("PUT", put.Method);
        Assert.Equal($"/admin/realms/acme/users/{AliceId}", put.RawTarget);
        Assert.Equal("application/json", put.Header("Content-Type"));
        Assert.Equal("Bearer kc-access-1", put.Header("Authorization"));

        // Every field Keycloak returned goes back unchanged (24.0.4+: no partial updates), except enabled.
        var sent = Contract.Json(put.Body);
        var original = Contract.Json(AliceRepresentation(enabled: true));
        Assert.False(sent.GetProperty("enabled").GetBoolean());
        var sentNames = sent.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(original.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal), sentNames);
        foreach (var property in original.EnumerateObject().Where(p => p.Name != "enabled"))
        {
            Assert.Equal(property.Value.GetRawText(), sent.GetProperty(property.Name).GetRawText());
        }
    }

    [Fact]
    public async Task Disable_WhenAlreadyDisabled_IsAlreadyInState_AndSendsNoPut()
    {
        _aliceEnabled = false;

        var result = await ClientCredentials().ExecuteAsync(Contract.Request(ResponseActionKind.Disable, "alice@example.org"), Contract.Ct);

        Assert.Equal(DeliveryStatus.AlreadyInState, result.Status);
        Assert.True(result.Succeeded);
        Assert.DoesNotContain(Stub.Requests, r => r.Method == "PUT");
    }

    [Fact]
    public async Task Restore_EnablesTheUser_AndIsAlreadyInStateTheSecondTime()
    {
        _aliceEnabled = false;
        var connector = ClientCredentials();

        var first = await connector.ExecuteAsync(Contract.Request(ResponseActionKind.Disable, "alice@example.org", restore: true), Contract.Ct);
        var second = await connector.ExecuteAsync(Contract.Request(ResponseActionKind.Disable, "alice@example.org", restore: true), Contract.Ct);

        Assert.Equal(DeliveryStatus.Done, first.Status);
        Assert.Equal(DeliveryStatus.AlreadyInState, second.Status);
        Assert.True(_aliceEnabled);
        Assert.True(Contract.Json(Stub.Requests.Single(r => r.Method == "PUT").Body).GetProperty("enabled").GetBoolean());
    }

    [Fact]
    public async Task StaticToken_IsSentAsBearer_WithoutATokenRequest()
    {
        var result = await Static().ExecuteAsync(Contract.Request(ResponseActionKind.RevokeSessions, "alice"), Contract.Ct);

        Assert.Equal(DeliveryStatus.Done, result.Status);
        Assert.DoesNotContain(Stub.Requests, r => r.Path.EndsWith("/token", StringComparison.Ordinal));
        Assert.All(Stub.Requests, r => Assert.Equal("Bearer " + StaticToken, r.Header("Authorization")));
    }

    [Fact]
    public async Task UnknownUser_IsPermanent_AndNothingIsChanged()
    {
        var result = await ClientCredentials().ExecuteAsync(Contract.Request(ResponseActionKind.Disable, "mallory@example.org"), Contract.Ct);

        Assert.Equal(DeliveryStatus.Permanent, result.Status);
        Assert.Contains("mallory", result.Detail);
        Assert.DoesNotContain(Stub.Requests, r => r.Method is "PUT" or "POST" && r.Path.Contains("/users/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task UserDeletedBeforeLogout_404_IsPermanent()
    {
        Override = r => r.Path.EndsWith("/logout", StringComparison.Ordinal) ? StubResponse.Json(404, """{"error":"User not found"}""") : null;

        var result = await ClientCredentials().ExecuteAsync(Contract.Request(ResponseActionKind.RevokeSessions, "alice@example.org"), Contract.Ct);

        Assert.Equal(DeliveryStatus.Permanent, result.Status);
        Assert.Contains("HTTP 404", result.Detail);
    }

    [Theory]
    [InlineData(429)]
    [InlineData(503)]
    public async Task ThrottledOrUnavailable_IsRetry_WithTheProvidersWait(int status)
    {
        Override = r => r.Path.StartsWith("/admin/", StringComparison.Ordinal)
            ? StubResponse.Json(status, """{"error":"try later"}""", ("Retry-After", "12"))
            : null;

        var result = await ClientCredentials().ExecuteAsync(Contract.Request(ResponseActionKind.RevokeSessions, "alice@example.org"), Contract.Ct);

        Assert.Equal(DeliveryStatus.Retry, result.Status);
        Assert.Contains($"HTTP {status}", result.Detail);
        Assert.Contains("retry after 12 s", result.Detail);
    }

    [Fact]
    public async Task TokenEndpointUnavailable_IsRetry()
    {
        Override = r => r.Path.EndsWith("/token", StringComparison.Ordinal) ? StubResponse.Empty(503) : null;

        var result = await ClientCredentials().ExecuteAsync(Contract.Request(ResponseActionKind.RevokeSessions, "alice@example.org"), Contract.Ct);

        Assert.Equal(DeliveryStatus.Retry, result.Status);
        Assert.Contains("token endpoint", result.Detail);
    }

    [Fact]
    public async Task BadClientSecret_401_IsPermanent_AndTheSecretIsNeverInTheDetail()
    {
        const string wrong = "kc-wrong-secret-0c1d2e";
        Override = r => r.Path.EndsWith("/token", StringComparison.Ordinal)
            ? StubResponse.Json(401, $$"""{"error":"unauthorized_client","error_description":"Invalid client credentials: {{wrong}}"}""")
            : null;

        var result = await ClientCredentials(secret: wrong).ExecuteAsync(Contract.Request(ResponseActionKind.RevokeSessions, "alice@example.org"), Contract.Ct);

        Assert.Equal(DeliveryStatus.Permanent, result.Status);
        Assert.Contains("HTTP 401", result.Detail);
        Assert.DoesNotContain(wrong, result.Detail);
        Assert.DoesNotContain(Stub.Requests, r => r.Path.StartsWith("/admin/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AdminApi401_WithStaticToken_IsPermanent_AndTheTokenIsNeverInTheDetail()
    {
        const string revoked = "kc-revoked-token-9e8d7c";
        Override = r => StubResponse.Json(401, $$"""{"error":"HTTP 401 Unauthorized","echo":"{{r.Header("Authorization")}}"}""");

        var result = await Static(revoked).ExecuteAsync(Contract.Request(ResponseActionKind.RevokeSessions, "alice"), Contract.Ct);

        Assert.Equal(DeliveryStatus.Permanent, result.Status);
        Assert.DoesNotContain(revoked, result.Detail);
        Assert.Single(Stub.Requests);
    }

    [Fact]
    public async Task AdminApi401_WithClientCredentials_FetchesOneFreshToken_ThenIsPermanent()
    {
        Override = r => r.Path.StartsWith("/admin/", StringComparison.Ordinal) ? StubResponse.Json(401, """{"error":"HTTP 401 Unauthorized"}""") : null;

        var result = await ClientCredentials().ExecuteAsync(Contract.Request(ResponseActionKind.RevokeSessions, "alice@example.org"), Contract.Ct);

        Assert.Equal(DeliveryStatus.Permanent, result.Status);
        Assert.Equal(2, Stub.Requests.Count(r => r.Path.EndsWith("/token", StringComparison.Ordinal)));
        Assert.DoesNotContain("kc-access-", result.Detail);
    }

    [Fact]
    public async Task SubjectNotMatchingThePattern_IsPermanent_WithoutACall()
    {
        var result = await ClientCredentials().ExecuteAsync(Contract.Request(ResponseActionKind.RevokeSessions, "spiffe://cluster/ns/ml/sa/trainer"), Contract.Ct);

        Assert.Equal(DeliveryStatus.Permanent, result.Status);
        Assert.Contains("SubjectPattern", result.Detail);
        Assert.Empty(Stub.Requests);
    }

    [Fact]
    public async Task UnsupportedKinds_ArePermanent_WithoutACall()
    {
        var connector = ClientCredentials();

        Assert.False(connector.Supports(ResponseActionKind.RevokeToken, false));
        Assert.False(connector.Supports(ResponseActionKind.RevokeSessions, true));
        Assert.True(connector.Supports(ResponseActionKind.Disable, true));
        var result = await connector.ExecuteAsync(Contract.Request(ResponseActionKind.RevokeToken, "alice@example.org", token: "at-1"), Contract.Ct);
        Assert.Equal(DeliveryStatus.Permanent, result.Status);
        Assert.Empty(Stub.Requests);
    }

    [Fact]
    public async Task SlowProvider_IsRetry_AfterTheTimeout()
    {
        Override = r => r.Path.StartsWith("/admin/", StringComparison.Ordinal) ? new StubResponse(200, "[]", Delay: TimeSpan.FromSeconds(10)) : null;

        var started = TimeProvider.System.GetTimestamp();
        var result = await ClientCredentials(timeout: TimeSpan.FromMilliseconds(300)).ExecuteAsync(Contract.Request(ResponseActionKind.RevokeSessions, "alice@example.org"), Contract.Ct);

        Assert.Equal(DeliveryStatus.Retry, result.Status);
        Assert.Contains("timed out", result.Detail);
        Assert.True(TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task NetworkError_IsRetry()
    {
        var result = await ClientCredentials(baseUrl: Contract.ClosedPortUrl()).ExecuteAsync(Contract.Request(ResponseActionKind.RevokeSessions, "alice@example.org"), Contract.Ct);

        Assert.Equal(DeliveryStatus.Retry, result.Status);
        Assert.DoesNotContain(ClientSecret, result.Detail);
    }

    [Fact]
    public async Task CallersCancellation_Throws()
    {
        Override = r => r.Path.StartsWith("/admin/", StringComparison.Ordinal) ? new StubResponse(200, "[]", Delay: TimeSpan.FromSeconds(10)) : null;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Contract.Ct);
        cts.CancelAfter(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            ClientCredentials().ExecuteAsync(Contract.Request(ResponseActionKind.RevokeSessions, "alice@example.org"), cts.Token));
    }

    [Fact]
    public async Task UnreadableAnswer_IsRetry()
    {
        Override = r => r.Path == "/admin/realms/acme/users" ? new StubResponse(200, "<html>proxy login</html>") : null;

        var result = await ClientCredentials().ExecuteAsync(Contract.Request(ResponseActionKind.RevokeSessions, "alice@example.org"), Contract.Ct);

        Assert.Equal(DeliveryStatus.Retry, result.Status);
        Assert.Contains("unreadable", result.Detail);
    }

    [Fact]
    public async Task SecretFromAnUnsetVariable_IsPermanent_NamingTheKey()
    {
        var result = await ClientCredentials(secret: "env:ANOMALYZT_TEST_UNSET_" + Guid.NewGuid().ToString("N"))
            .ExecuteAsync(Contract.Request(ResponseActionKind.RevokeSessions, "alice@example.org"), Contract.Ct);

        Assert.Equal(DeliveryStatus.Permanent, result.Status);
        Assert.Contains("Response:Connectors:kc:ClientSecret", result.Detail);
        Assert.Empty(Stub.Requests);
    }
}
