// Microsoft Graph contract: the request and response shapes come from
//  - user: revokeSignInSessions, https://learn.microsoft.com/graph/api/user-revokesigninsessions?view=graph-rest-1.0
//    (POST /users/{id | userPrincipalName}/revokeSignInSessions, no body; 200 OK {"@odata.context":…#Edm.Boolean,
//    "value":true}) and Known issues, "Revoke sign-in sessions returns wrong HTTP code" (204 or 200: treat any 2xx as success)
//  - Update user, https://learn.microsoft.com/graph/api/user-update?view=graph-rest-1.0
//    (PATCH /users/{id | userPrincipalName}, JSON body {"accountEnabled":false}; 204 No Content)
//  - Get user, https://learn.microsoft.com/graph/api/user-get?view=graph-rest-1.0 ($select=accountEnabled)
//  - Microsoft identity platform client credentials flow,
//    https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow
//    (POST https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token, form client_id, scope=https://graph.microsoft.com/.default,
//    client_secret, grant_type=client_credentials; JSON token_type, expires_in, access_token)
//  - Throttling guidance, https://learn.microsoft.com/graph/throttling (429 + Retry-After), and error responses,
//    https://learn.microsoft.com/graph/errors ({"error":{"code","message","innerError"}})

using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.Response.Connectors;

namespace AnomalyZT.Tests.Response.Contracts;

public sealed class GraphContractTests(ProviderStub stub) : ProviderContractTests(stub), IClassFixture<ProviderStub>
{
    private const string ClientSecret = "graph-client-secret~Qz8.ab";
    private const string Upn = "alice@contoso.com";

    private int _issued;
    private bool _accountEnabled = true;
    private bool _revokeAnswers204;

    private static StubResponse GraphError(int status, string code, string message, params (string, string)[] headers) =>
        StubResponse.Json(status, $$"""
            {"error":{"code":"{{code}}","message":"{{message}}",
             "innerError":{"date":"2026-11-20T09:00:00","request-id":"b0c1e7f2-6a7e-4c55-9d6b-3d2f7d1a9e10","client-request-id":"b0c1e7f2-6a7e-4c55-9d6b-3d2f7d1a9e10"} } }
            """, headers);

    protected override StubResponse Handle(RecordedRequest r)
    {
        if (r.Method == "POST" && r.Path == "/contoso-tenant/oauth2/v2.0/token")
        {
            if (r.Form.GetValueOrDefault("client_secret") != ClientSecret)
            {
                return StubResponse.Json(401, """{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215]}""");
            }

            var n = Interlocked.Increment(ref _issued);
            return StubResponse.Json(200, $$"""{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"eyJ0eXAiOiJKV1Qi.graph-{{n}}"}""");
        }

        if (r.Header("Authorization") is not { } auth || !auth.StartsWith("Bearer eyJ0eXAiOiJKV1Qi.graph-", StringComparison.Ordinal))
        {
            return GraphError(401, "InvalidAuthenticationToken", "Access token is empty.");
        }

        const string user = "/v1.0/users/" + Upn;
        return (r.Method, r.RawTarget) switch
        {
            ("POST", user + "/revokeSignInSessions") => _revokeAnswers204
                ? StubResponse.Empty(204)
                : StubResponse.Json(200, """{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#Edm.Boolean","value":true}"""),
            ("GET", user + "?$select=accountEnabled") =>
                StubResponse.Json(200, $$"""{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users(accountEnabled)/$entity","accountEnabled":{{(_accountEnabled ? "true" : "false")}}}"""),
            ("PATCH", user) => Patch(r),
            _ => GraphError(404, "Request_ResourceNotFound",
                $"Resource '{r.Path["/v1.0/users/".Length..].Split('/')[0]}' does not exist or one of its queried reference-property objects are not present."),
        };
    }

    private StubResponse Patch(RecordedRequest r)
    {
        _accountEnabled = Contract.Json(r.Body).GetProperty("accountEnabled").GetBoolean();
        return StubResponse.Empty(204);
    }

    private GraphConnector ClientCredentials(string? secret = null) =>
        new("entra", new ConnectorOptions
        {
            Type = ConnectorTypes.Graph,
            BaseUrl = Stub.Url + "/v1.0",
            TokenUrl = Stub.Url + "/contoso-tenant/oauth2/v2.0/token",
            ClientId = "9b2f3c4d-0000-4e5f-8a9b-0c1d2e3f4a5b",
            ClientSecret = secret ?? ClientSecret,
        }, Http, Time);

    private GraphConnector Static(string token) =>
        new("entra", new ConnectorOptions { Type = ConnectorTypes.Graph, BaseUrl = Stub.Url + "/v1.0/", Token = token }, Http, Time);

    [Fact]
    public async Task RevokeSessions_GetsAppToken_AndPostsRevokeSignInSessions()
    {
        var result = await ClientCredentials().ExecuteAsync(Contract.Request(ResponseActionKind.RevokeSessions, Upn), Contract.Ct);

        Assert.Equal(DeliveryStatus.Done, result.Status);
        var requests = Stub.Requests;
        Assert.Equal(2, requests.Count);
        var token = requests[0];
        Assert.Equal("POST", token.Method);
        Assert.StartsWith("application/x-www-form-urlencoded", token.Header("Content-Type"));
        Assert.Equal("client_credentials", token.Form["grant_type"]);
        Assert.Equal("9b2f3c4d-0000-4e5f-8a9b-0c1d2e3f4a5b", token.Form["client_id"]);
        Assert.Equal(ClientSecret, token.Form["client_secret"]);
        Assert.Equal("https://graph.microsoft.com/.default", token.Form["scope"]);

        var revoke = requests[1];
        Assert.Equal("POST", revoke.Method);
        Assert.Equal($"/v1.0/users/{Upn}/revokeSignInSessions", revoke.RawTarget);
        Assert.Equal("Bearer eyJ0eXAiOiJKV1Qi.graph-1", revoke.Header("Authorization"));
        Assert.Empty(revoke.BodyBytes);
    }

    [Fact]
    public async Task RevokeSessions_204FromTheKnownIssue_IsDoneToo()
    {
        _revokeAnswers204 = true;

        var result = await ClientCredentials().ExecuteAsync(Contract.Request(ResponseActionKind.RevokeSessions, Upn), Contract.Ct);

        Assert.Equal(DeliveryStatus.Done, result.Status);
    }

    [Fact]
    public async Task RequireReauth_IsRevokeSignInSessions()
    {
        var result = await ClientCredentials().ExecuteAsync(Contract.Request(ResponseActionKind.RequireReauth, Upn), Contract.Ct);

        Assert.Equal(DeliveryStatus.Done, result.Status);
        Assert.Equal($"/v1.0/users/{Upn}/revokeSignInSessions", Stub.Requests[^1].RawTarget);
    }

    [Fact]
    public async Task Token_IsCachedAcrossCalls()
    {
        var connector = ClientCredentials();
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(DeliveryStatus.Done, (await connector.ExecuteAsync(Contract.Request(ResponseActionKind.RevokeSessions, Upn), Contract.Ct)).Status);
            Time.Advance(TimeSpan.FromMinutes(10));
        }

        Assert.Single(Stub.Requests, r => r.Path.EndsWith("/token", StringComparison.Ordinal));

        Time.Advance(TimeSpan.FromMinutes(20));
        await connector.ExecuteAsync(Contract.Request(ResponseActionKind.RevokeSessions, Upn), Contract.Ct);
        Assert.Equal(2, Stub.Requests.Count(r => r.Path.EndsWith("/token", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Disable_ReadsAccountEnabled_ThenPatchesFalse()
    {
        var result = await ClientCredentials().ExecuteAsync(Contract.Request(ResponseActionKind.Disable, Upn), Contract.Ct);

        Assert.Equal(DeliveryStatus.Done, result.Status);
        Assert.False(_accountEnabled);
        var read = Stub.Requests[^2];
        Assert.Equal("GET", read.Method);
        Assert.Equal($"/v1.0/users/{Upn}?$select=accountEnabled", read.RawTarget);
        var patch = Stub.Requests[^1];
        Assert.Equal("PATCH", patch.Method);
        Assert.Equal($"/v1.0/users/{Upn}", patch.RawTarget);
        Assert.Equal("application/json", patch.Header("Content-Type"));
        Assert.Equal("""{"accountEnabled":false}""", patch.Body);
    }

    [Fact]
    public async Task Disable_WhenAlreadyDisabled_IsAlreadyInState_WithoutPatch()
    {
        _accountEnabled = false;

        var result = await ClientCredentials().ExecuteAsync(Contract.Request(ResponseActionKind.Disable, Upn), Contract.Ct);

        Assert.Equal(DeliveryStatus.AlreadyInState, result.Status);
        Assert.DoesNotContain(Stub.Requests, r => r.Method == "PATCH");
    }

    [Fact]
    public async Task Restore_PatchesTrue()
    {
        _accountEnabled = false;

        var result = await ClientCredentials().ExecuteAsync(Contract.Request(ResponseActionKind.Disable, Upn, restore: true), Contract.Ct);

        Assert.Equal(DeliveryStatus.Done, result.Status);
        Assert.Equal("""{"accountEnabled":true}""", Stub.Requests[^1].Body);
        Assert.True(_accountEnabled);
    }

    [Fact]
    public async Task UnknownUser_404_IsPermanent()
    {
        var result = await ClientCredentials().ExecuteAsync(Contract.Request(ResponseActionKind.Disable, "nobody@contoso.com"), Contract.Ct);

        Assert.Equal(DeliveryStatus.Permanent, result.Status);
        Assert.Contains("HTTP 404", result.Detail);
        Assert.Contains("Request_ResourceNotFound", result.Detail);
        Assert.DoesNotContain(Stub.Requests, r => r.Method == "PATCH");
    }

    [Fact]
    public async Task GuestUpn_EncodesHash_KeepsAt()
    {
        Override = r => r.Path.EndsWith("/revokeSignInSessions", StringComparison.Ordinal) ? StubResponse.Empty(204) : null;

        await ClientCredentials().ExecuteAsync(Contract.Request(ResponseActionKind.RevokeSessions, "adele_adatum.com#EXT#@contoso.com"), Contract.Ct);

        Assert.Equal("/v1.0/users/adele_adatum.com%23EXT%23@contoso.com/revokeSignInSessions", Stub.Requests[^1].RawTarget);
    }

    [Fact]
    public async Task Throttled429_IsRetry_AfterRetryAfter()
    {
        Override = r => r.Path.StartsWith("/v1.0/", StringComparison.Ordinal)
            ? GraphError(429, "TooManyRequests", "Too many requests, please try again later.", ("Retry-After", "7"))
            : null;

        var result = await ClientCredentials().ExecuteAsync(Contract.Request(ResponseActionKind.RevokeSessions, Upn), Contract.Ct);

        Assert.Equal(DeliveryStatus.Retry, result.Status);
        Assert.Contains("HTTP 429", result.Detail);
        Assert.Contains("retry after 7 s", result.Detail);
    }

    [Fact]
    public async Task Unavailable503_IsRetry()
    {
        Override = r => r.Method == "PATCH" ? GraphError(503, "serviceNotAvailable", "Service unavailable.", ("Retry-After", "3")) : null;

        var result = await ClientCredentials().ExecuteAsync(Contract.Request(ResponseActionKind.Disable, Upn), Contract.Ct);

        Assert.Equal(DeliveryStatus.Retry, result.Status);
        Assert.Contains("retry after 3 s", result.Detail);
    }

    [Fact]
    public async Task InvalidClientSecret_401_IsPermanent_AndTheSecretIsNeverInTheDetail()
    {
        const string wrong = "graph-wrong-secret~77xy";
        Override = r => r.Path.EndsWith("/token", StringComparison.Ordinal)
            ? StubResponse.Json(401, $$"""{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided: {{r.Form["client_secret"]}}"}""")
            : null;

        var result = await ClientCredentials(wrong).ExecuteAsync(Contract.Request(ResponseActionKind.RevokeSessions, Upn), Contract.Ct);

        Assert.Equal(DeliveryStatus.Permanent, result.Status);
        Assert.Contains("invalid_client", result.Detail);
        Assert.DoesNotContain(wrong, result.Detail);
    }

    [Fact]
    public async Task InvalidStaticToken_401_IsPermanent_AndTheTokenIsNeverInTheDetail()
    {
        const string token = "eyJ0eXAiOiJKV1Qi.expired-static-token";
        Override = r => GraphError(401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired: " + r.Header("Authorization"));

        var result = await Static(token).ExecuteAsync(Contract.Request(ResponseActionKind.RevokeSessions, Upn), Contract.Ct);

        Assert.Equal(DeliveryStatus.Permanent, result.Status);
        Assert.Contains("InvalidAuthenticationToken", result.Detail);
        Assert.DoesNotContain(token, result.Detail);
        Assert.Equal("Bearer " + token, Stub.Requests.Single().Header("Authorization"));
    }
}
