// Okta contract: the request and response shapes come from
//  - Okta Management API, Users: https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/
//    (GET /api/v1/users/{id} with id, login or login shortname, URL-encoded; "Logins with a / character can only be
//    fetched by id", list with ?search=profile.login eq "…"; user object with id, status, profile.login)
//  - User Sessions: https://developer.okta.com/docs/api/openapi/okta-management/management/tag/UserSessions/
//    (DELETE /api/v1/users/{userId}/sessions, query oauthTokens default false, forgetDevices; 204 No Content)
//  - User Lifecycle: https://developer.okta.com/docs/api/openapi/okta-management/management/tag/UserLifecycle/
//    (POST /api/v1/users/{id}/lifecycle/suspend "only on users with an ACTIVE status", …/unsuspend "only on users with a
//    SUSPENDED status"; 200 OK; errors as {errorCode, errorSummary, errorLink, errorId, errorCauses})
//  - API tokens, https://developer.okta.com/docs/guides/create-an-api-token/ (Authorization: SSWS {token})
//  - Rate limits, https://developer.okta.com/docs/reference/rl-best-practices/ (429, X-Rate-Limit-Limit/-Remaining/-Reset,
//    reset in UTC epoch seconds; error E0000047)

using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.Response.Connectors;

namespace AnomalyZT.Tests.Response.Contracts;

public sealed class OktaContractTests(ProviderStub stub) : ProviderContractTests(stub), IClassFixture<ProviderStub>
{
    private const string ApiToken = "00okta-api-token-Xk29fQ";
    private const string AliceId = "00ub0oNGTSWTBKOLGLNR";

    private string _aliceStatus = "ACTIVE";

    private string Alice(string login = "alice@example.org") => $$"""
        {"id":"{{AliceId}}","status":"{{_aliceStatus}}","created":"2025-01-10T09:12:00.000Z","activated":"2025-01-10T09:12:01.000Z",
         "statusChanged":"2026-11-01T08:00:00.000Z","lastLogin":"2026-11-20T08:55:00.000Z","lastUpdated":"2026-11-01T08:00:00.000Z",
         "passwordChanged":"2025-01-10T09:12:01.000Z","type":{"id":"otyfnjfba4ye7pgjB0g4"},
         "profile":{"firstName":"Alice","lastName":"Liddell","mobilePhone":null,"secondEmail":null,"login":"{{login}}","email":"alice@example.org"},
         "credentials":{"password":{},"provider":{"type":"OKTA","name":"OKTA"} },
         "_links":{"self":{"href":"https://example.okta.com/api/v1/users/{{AliceId}}"} } }
        """;

    private static StubResponse OktaError(int status, string code, string summary, params string[] causes) =>
        StubResponse.Json(status, $$"""
            {"errorCode":"{{code}}","errorSummary":"{{summary}}","errorLink":"{{code}}","errorId":"oaeJc1x2HaSQn6mBTcCjhQVQA",
             "errorCauses":[{{string.Join(",", causes.Select(c => $$"""{"errorSummary":"{{c}}"}"""))}}]}
            """);

    protected override StubResponse Handle(RecordedRequest r)
    {
        if (r.Header("Authorization") != "SSWS " + ApiToken)
        {
            return OktaError(401, "E0000011", "Invalid token provided");
        }

        var user = $"/api/v1/users/{AliceId}";
        return (r.Method, r.RawTarget) switch
        {
            ("GET", "/api/v1/users/alice%40example.org") or ("GET", "/api/v1/users/" + AliceId) => StubResponse.Json(200, Alice()),
            ("GET", "/api/v1/users?search=profile.login%20eq%20%22ops%2Falice%40example.org%22") =>
                StubResponse.Json(200, "[" + Alice("ops/alice@example.org") + "]"),
            ("GET", _) when r.Path.StartsWith("/api/v1/users/", StringComparison.Ordinal) =>
                OktaError(404, "E0000007", $"Not found: Resource not found: {r.Path["/api/v1/users/".Length..]} (User)"),
            ("DELETE", _) when r.Path == user + "/sessions" => StubResponse.Empty(204),
            ("POST", _) when r.Path == user + "/lifecycle/suspend" => _aliceStatus == "ACTIVE"
                ? Transition("SUSPENDED")
                : OktaError(400, "E0000001", "Api validation failed: suspendUser", "Cannot suspend a user that is not active"),
            ("POST", _) when r.Path == user + "/lifecycle/unsuspend" => _aliceStatus == "SUSPENDED"
                ? Transition("ACTIVE")
                : OktaError(400, "E0000001", "Api validation failed: unsuspendUser", "Cannot unsuspend a user that is not suspended"),
            _ => OktaError(404, "E0000022", "The endpoint does not support the provided HTTP method"),
        };
    }

    private StubResponse Transition(string status)
    {
        _aliceStatus = status;
        return StubResponse.Json(200, "{}");
    }

    private OktaConnector Connector(string token = ApiToken) =>
        new("okta", new ConnectorOptions { Type = ConnectorTypes.Okta, BaseUrl = Stub.Url + "/", Token = token }, Http, Time);

    [Fact]
    public async Task RevokeSessions_ReadsUserByEncodedLogin_AndClearsSessionsAndOAuthTokens()
    {
        var result = await Connector().ExecuteAsync(Contract.Request(ResponseActionKind.RevokeSessions, "alice@example.org"), Contract.Ct);

        Assert.Equal(DeliveryStatus.Done, result.Status);
        var requests = Stub.Requests;
        Assert.Equal(2, requests.Count);
        Assert.Equal("GET", requests[0].Method);
        Assert.Equal("/api/v1/users/alice%40example.org", requests[0].RawTarget);
        Assert.Equal("DELETE", requests[1].Method);
        Assert.Equal($"/api/v1/users/{AliceId}/sessions?oauthTokens=true", requests[1].RawTarget);
        Assert.All(requests, r =>
        {
            Assert.Equal("SSWS " + ApiToken, r.Header("Authorization"));
            Assert.Equal("application/json", r.Header("Accept"));
        });
    }

    [Fact]
    public async Task RequireReauth_ClearsSessionsOnly()
    {
        var result = await Connector().ExecuteAsync(Contract.Request(ResponseActionKind.RequireReauth, "alice@example.org"), Contract.Ct);

        Assert.Equal(DeliveryStatus.Done, result.Status);
        Assert.Equal("DELETE", Stub.Requests[^1].Method);
        Assert.Equal($"/api/v1/users/{AliceId}/sessions", Stub.Requests[^1].RawTarget);
    }

    [Fact]
    public async Task Disable_ActiveUser_PostsSuspend()
    {
        var result = await Connector().ExecuteAsync(Contract.Request(ResponseActionKind.Disable, "alice@example.org"), Contract.Ct);

        Assert.Equal(DeliveryStatus.Done, result.Status);
        Assert.Equal("SUSPENDED", _aliceStatus);
        var suspend = Stub.Requests[^1];
        Assert.Equal("POST", suspend.Method);
        Assert.Equal($"/api/v1/users/{AliceId}/lifecycle/suspend", suspend.RawTarget);
        Assert.Empty(suspend.BodyBytes);
    }

    [Fact]
    public async Task Disable_SuspendedUser_IsAlreadyInState_WithoutPosting()
    {
        _aliceStatus = "SUSPENDED";

        var result = await Connector().ExecuteAsync(Contract.Request(ResponseActionKind.Disable, "alice@example.org"), Contract.Ct);

        Assert.Equal(DeliveryStatus.AlreadyInState, result.Status);
        Assert.DoesNotContain(Stub.Requests, r => r.Method == "POST");
    }

    [Fact]
    public async Task Disable_Suspend400_WhenTheStatusReadAgainIsSuspended_IsAlreadyInState()
    {
        // Suspended by someone else between our read and our POST: Okta's 400 then means "already done".
        var reads = 0;
        Override = r =>
        {
            if (r.Method == "GET" && ++reads == 2)
            {
                _aliceStatus = "SUSPENDED";
            }

            return r.Path.EndsWith("/lifecycle/suspend", StringComparison.Ordinal)
                ? OktaError(400, "E0000001", "Api validation failed: suspendUser", "Cannot suspend a user that is not active")
                : null;
        };

        var result = await Connector().ExecuteAsync(Contract.Request(ResponseActionKind.Disable, "alice@example.org"), Contract.Ct);

        Assert.Equal(DeliveryStatus.AlreadyInState, result.Status);
        Assert.Equal(2, reads);
    }

    [Fact]
    public async Task Disable_DeprovisionedUser_Suspend400_IsPermanent()
    {
        _aliceStatus = "DEPROVISIONED";

        var result = await Connector().ExecuteAsync(Contract.Request(ResponseActionKind.Disable, "alice@example.org"), Contract.Ct);

        Assert.Equal(DeliveryStatus.Permanent, result.Status);
        Assert.Contains("HTTP 400", result.Detail);
        Assert.Contains("DEPROVISIONED", result.Detail);
    }

    [Fact]
    public async Task Restore_SuspendedUser_PostsUnsuspend_ThenIsAlreadyInState()
    {
        _aliceStatus = "SUSPENDED";
        var connector = Connector();

        var first = await connector.ExecuteAsync(Contract.Request(ResponseActionKind.Disable, "alice@example.org", restore: true), Contract.Ct);
        var second = await connector.ExecuteAsync(Contract.Request(ResponseActionKind.Disable, "alice@example.org", restore: true), Contract.Ct);

        Assert.Equal(DeliveryStatus.Done, first.Status);
        Assert.Equal(DeliveryStatus.AlreadyInState, second.Status);
        Assert.Equal("ACTIVE", _aliceStatus);
        Assert.Equal($"/api/v1/users/{AliceId}/lifecycle/unsuspend", Stub.Requests.Single(r => r.Method == "POST").RawTarget);
    }

    [Fact]
    public async Task Restore_DeprovisionedUser_IsPermanent_NeverReactivated()
    {
        _aliceStatus = "DEPROVISIONED";

        var result = await Connector().ExecuteAsync(Contract.Request(ResponseActionKind.Disable, "alice@example.org", restore: true), Contract.Ct);

        Assert.Equal(DeliveryStatus.Permanent, result.Status);
        Assert.DoesNotContain(Stub.Requests, r => r.Path.EndsWith("/activate", StringComparison.Ordinal));
    }

    [Fact]
    public async Task LoginWithSlash_IsFoundBySearch()
    {
        var result = await Connector().ExecuteAsync(Contract.Request(ResponseActionKind.RevokeSessions, "ops/alice@example.org"), Contract.Ct);

        Assert.Equal(DeliveryStatus.Done, result.Status);
        Assert.Equal("/api/v1/users?search=profile.login%20eq%20%22ops%2Falice%40example.org%22", Stub.Requests[0].RawTarget);
    }

    [Fact]
    public async Task UnknownUser_404_IsPermanent()
    {
        var result = await Connector().ExecuteAsync(Contract.Request(ResponseActionKind.Disable, "bob@example.org"), Contract.Ct);

        Assert.Equal(DeliveryStatus.Permanent, result.Status);
        Assert.Contains("bob@example.org", result.Detail);
        Assert.Single(Stub.Requests);
    }

    [Fact]
    public async Task RateLimited429_IsRetry_UntilXRateLimitReset()
    {
        var reset = (Contract.T0 + TimeSpan.FromSeconds(42)).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        Override = _ => StubResponse.Json(429,
            """{"errorCode":"E0000047","errorSummary":"API call exceeded rate limit due to too many requests.","errorLink":"E0000047","errorId":"oae1","errorCauses":[]}""",
            ("X-Rate-Limit-Limit", "600"), ("X-Rate-Limit-Remaining", "0"), ("X-Rate-Limit-Reset", reset));

        var result = await Connector().ExecuteAsync(Contract.Request(ResponseActionKind.RevokeSessions, "alice@example.org"), Contract.Ct);

        Assert.Equal(DeliveryStatus.Retry, result.Status);
        Assert.Contains("HTTP 429", result.Detail);
        Assert.Contains("retry after 42 s", result.Detail);
    }

    [Fact]
    public async Task Unavailable503_IsRetry()
    {
        Override = r => r.Method == "DELETE" ? StubResponse.Empty(503) : null;

        var result = await Connector().ExecuteAsync(Contract.Request(ResponseActionKind.RevokeSessions, "alice@example.org"), Contract.Ct);

        Assert.Equal(DeliveryStatus.Retry, result.Status);
    }

    [Fact]
    public async Task InvalidToken_401_IsPermanent_AndTheTokenIsNeverInTheDetail()
    {
        const string bad = "00okta-revoked-token-Qw81";
        Override = r => OktaError(401, "E0000011", "Invalid token provided: " + r.Header("Authorization"));

        var result = await Connector(bad).ExecuteAsync(Contract.Request(ResponseActionKind.RevokeSessions, "alice@example.org"), Contract.Ct);

        Assert.Equal(DeliveryStatus.Permanent, result.Status);
        Assert.Contains("HTTP 401", result.Detail);
        Assert.DoesNotContain(bad, result.Detail);
    }

    [Fact]
    public async Task Supports_SessionsAndSuspend_NotTokens()
    {
        var connector = Connector();

        Assert.True(connector.Supports(ResponseActionKind.RevokeSessions, false));
        Assert.True(connector.Supports(ResponseActionKind.Disable, true));
        Assert.False(connector.Supports(ResponseActionKind.RevokeToken, false));
        Assert.False(connector.Supports(ResponseActionKind.Notify, false));
        var result = await connector.ExecuteAsync(Contract.Request(ResponseActionKind.RevokeSessions, "alice@example.org", restore: true), Contract.Ct);
        Assert.Equal(DeliveryStatus.Permanent, result.Status);
        Assert.Empty(Stub.Requests);
    }
}
