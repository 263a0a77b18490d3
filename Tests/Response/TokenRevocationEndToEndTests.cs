using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.Response;
using AnomalyZT.Silo.Serialization;
using AnomalyZT.Silo.State;
using AnomalyZT.Tests.Silo;
using Microsoft.Extensions.DependencyInjection;

namespace AnomalyZT.Tests.Response;

/// <summary>revoke_token end to end against a real OAuth 2.0 provider: a shipper sends an access log line that carries
/// the token; the identity turns risky; the engine revokes the token (RFC 7009) and introspection (RFC 7662) then says it
/// is inactive. The token is never served back by the API.</summary>
public sealed class TokenRevocationEndToEndTests(OidcServerFixture oidc) : IClassFixture<OidcServerFixture>
{
    private const string Identity = "svc-runner@corp.example";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ATokenSeenInTheLogs_IsRevokedWhenItsIdentityTurnsRisky()
    {
        var token = await oidc.GetAccessTokenAsync(Ct);
        Assert.True(await oidc.IsActiveAsync(token, Ct));

        var yaml = Path.Combine(Path.GetTempPath(), "anomalyzt-token-" + Guid.NewGuid().ToString("N") + ".yaml");
        await File.WriteAllTextAsync(yaml, """
            version: token
            response:
              dry_run: false
              rules:
                - name: revoke-token
                  risk_at_least: 40
                  action: revoke_token
                  connectors: [oauth]
            """, Ct);
        var o = oidc.ConnectorOptions();
        await using var silo = await SiloServer.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Runtime:DetectorsFile"] = yaml,
            ["Response:PollInterval"] = "00:00:00.100",
            ["Response:Executor:PollInterval"] = "00:00:00.100",
            ["Response:Connectors:oauth:Type"] = o.Type,
            ["Response:Connectors:oauth:BaseUrl"] = o.BaseUrl,
            ["Response:Connectors:oauth:ClientId"] = o.ClientId,
            ["Response:Connectors:oauth:ClientSecret"] = o.ClientSecret,
        });

        using (var shipper = silo.Client(SiloServer.ShipperKey))
        {
            var ts = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture);
            var line = $$"""{"type":"access","ts":"{{ts}}","principal":"{{Identity}}","resource":"/v1/models","status":200,"token":"{{token}}"}""";
            using var body = new StringContent(line + "\n", Encoding.UTF8, "application/x-ndjson");
            using var response = await shipper.PostAsync("v1/ingest/generic", body, Ct);
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(Ct));
        }

        Assert.Equal(token, silo.App.Services.GetRequiredService<TokenVault>().Latest(Identity));
        var findings = new[] { Risky("failures"), Risky("requests") };
        await silo.App.Services.GetRequiredService<IStateStore>().CommitAsync(new Checkpoint([], findings, []), Ct);
        await silo.App.Services.GetRequiredService<Responder>().OnFindingsCommittedAsync(findings);

        using var viewer = silo.Client(SiloServer.ViewerKey);
        var done = await ResponseEndToEndTests.WaitForAsync(viewer, a => a.Any(x => x.State == ResponseActionState.Done) ? a : null);
        Assert.Equal(ResponseActionKind.RevokeToken, Assert.Single(done).Kind);
        Assert.False(await oidc.IsActiveAsync(token, Ct));

        // The token is nowhere in what the API serves.
        var actionsJson = await viewer.GetStringAsync("v1/actions", Ct);
        var auditJson = await viewer.GetStringAsync("v1/audit", Ct);
        var alertsJson = await viewer.GetStringAsync("v1/alerts", Ct);
        Assert.DoesNotContain(token, actionsJson, StringComparison.Ordinal);
        Assert.DoesNotContain(token, auditJson, StringComparison.Ordinal);
        Assert.DoesNotContain(token, alertsJson, StringComparison.Ordinal);
        Assert.Null((await silo.App.Services.GetRequiredService<IResponseStore>().GetActionAsync(done[0].Id, Ct))!.Token);
    }

    [Fact]
    public async Task WithNoTokenSeen_TheActionFailsAtOnce_SayingWhy()
    {
        var yaml = Path.Combine(Path.GetTempPath(), "anomalyzt-token-" + Guid.NewGuid().ToString("N") + ".yaml");
        await File.WriteAllTextAsync(yaml, """
            response:
              dry_run: false
              rules: [{ name: revoke-token, risk_at_least: 40, action: revoke_token, connectors: [log] }]
            """, Ct);
        await using var silo = await SiloServer.StartAsync(settings: new Dictionary<string, string?> { ["Runtime:DetectorsFile"] = yaml });
        var findings = new[] { Risky("failures"), Risky("requests") };
        await silo.App.Services.GetRequiredService<IStateStore>().CommitAsync(new Checkpoint([], findings, []), Ct);
        await silo.App.Services.GetRequiredService<Responder>().OnFindingsCommittedAsync(findings);
        using var viewer = silo.Client(SiloServer.ViewerKey);
        var failed = await ResponseEndToEndTests.WaitForAsync(viewer, a => a.Count > 0 ? a : null);
        Assert.Equal(ResponseActionState.Failed, Assert.Single(failed).State);
        Assert.Contains("no access token of " + Identity, failed[0].LastError, StringComparison.Ordinal);
    }

    private static Finding Risky(string feature) => Core.ResponseHarness.IdentityFinding(Identity, feature, 0, Severity.High);
}
