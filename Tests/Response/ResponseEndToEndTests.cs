using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.Api;
using AnomalyZT.Silo.Cli;
using AnomalyZT.Silo.Response;
using AnomalyZT.Silo.Serialization;
using AnomalyZT.Tests.Silo;

namespace AnomalyZT.Tests.Response;

/// <summary>The whole loop against real peers: the samples' credential-stuffing incident on alice@corp.example is
/// shipped to a silo; alice's risk rises, the policy disables her at a real SCIM server and a real OpenLDAP, and the TTL
/// restores her. The same behaviour from an allowlisted identity touches nothing.</summary>
public sealed class ResponseEndToEndTests(ScimServerFixture scim, LdapServerFixture ldap)
    : IClassFixture<ScimServerFixture>, IClassFixture<LdapServerFixture>
{
    private const string Alice = "alice@corp.example";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Incident_RaisesRisk_DisablesAtScimAndLdap_ThenTheTtlRestores()
    {
        Assert.True(await scim.IsActiveAsync("alice", Ct));
        Assert.False(await ldap.IsLockedAsync("alice", Ct));
        await using var silo = await StartSiloAsync(allowlistAlice: false);
        using var viewer = silo.Client(SiloServer.ViewerKey);

        await ShipSamplesAsync(silo);

        var done = await WaitForAsync(viewer, actions => actions.Count(a => a.State == ResponseActionState.Done) >= 2 ? actions : null);
        Assert.Equal(["ldap", "scim"], done.Where(a => a.State == ResponseActionState.Done).Select(a => a.Connector).Order(StringComparer.Ordinal));
        Assert.All(done, a => Assert.Equal(Alice, a.IdentityId));
        Assert.False(await scim.IsActiveAsync("alice", Ct));
        Assert.True(await ldap.IsLockedAsync("alice", Ct));
        Assert.False(await ldap.CanBindAsync("alice", Ct));
        Assert.True(await scim.IsActiveAsync("bob", Ct));

        var risk = await viewer.GetFromJsonAsync("v1/identities/" + Alice + "/risk", AnomalyJsonContext.Default.RiskBody, Ct);
        Assert.NotNull(risk);
        Assert.True(risk.Risk >= 40, $"risk {risk.Risk}");
        Assert.Equal("human", risk.IdentityClass);
        Assert.Contains(risk.Contributions, c => c.Feature == "failures");

        foreach (var a in done.Where(a => a.State == ResponseActionState.Done))
        {
            TestContext.Current.TestOutputHelper?.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"latency finding->{a.Connector} complete: {a.DeliveredAtMs - a.DetectedAtMs} ms"));
        }

        // ttl_minutes 0.1: six seconds later both are restored.
        var restored = await WaitForAsync(viewer, actions => actions.Count(a => a.State == ResponseActionState.Restored) >= 2 ? actions : null);
        Assert.Equal(2, restored.Count(a => a.State == ResponseActionState.Restored));
        Assert.True(await scim.IsActiveAsync("alice", Ct));
        Assert.False(await ldap.IsLockedAsync("alice", Ct));
        Assert.True(await ldap.CanBindAsync("alice", Ct));

        var audit = await viewer.GetFromJsonAsync("v1/audit?limit=1000", AnomalyJsonContext.Default.ListAuditRecord, Ct);
        Assert.NotNull(audit);
        Assert.Null(AnomalyZT.Silo.State.AuditChain.FirstBroken(audit));
        Assert.Equal(2, audit.Count(a => a.Event == AuditEvents.Delivered));
        Assert.Equal(2, audit.Count(a => a.Event == AuditEvents.Restored));
    }

    [Fact]
    public async Task AllowlistedIdentity_BehavingTheSame_IsNeverTouched()
    {
        await using var silo = await StartSiloAsync(allowlistAlice: true);
        using var viewer = silo.Client(SiloServer.ViewerKey);
        await ShipSamplesAsync(silo);

        // The risk is there and the allowlist match is audited; no action is ever recorded.
        var audit = await WaitForAsync(viewer, "v1/audit?limit=1000", AnomalyJsonContext.Default.ListAuditRecord,
            lines => lines.Any(l => l.Event == AuditEvents.Allowlisted) ? lines : null);
        Assert.Contains(audit, l => l.Detail.Contains(Alice, StringComparison.Ordinal));
        var risk = await viewer.GetFromJsonAsync("v1/identities/" + Alice + "/risk", AnomalyJsonContext.Default.RiskBody, Ct);
        Assert.Equal("group break-glass", risk!.Allowlisted);
        var page = await viewer.GetFromJsonAsync("v1/actions", AnomalyJsonContext.Default.ActionPage, Ct);
        Assert.Empty(page!.Items);
        Assert.True(await scim.IsActiveAsync("alice", Ct));
        Assert.False(await ldap.IsLockedAsync("alice", Ct));
    }

    internal static async Task ShipSamplesAsync(SiloServer silo)
    {
        var inputs = InputFiles.Resolve([RepoPaths.Samples], null);
        var result = await Shipper.ShipAsync(inputs, silo.BaseAddress, SiloServer.ShipperKey, 600, Ct);
        Assert.Equal(0, result.Rejected);
        await silo.Runtime.CloseAllAsync(Ct);
    }

    internal static Task<List<ResponseAction>> WaitForAsync(HttpClient viewer, Func<List<ResponseAction>, List<ResponseAction>?> until) =>
        WaitForAsync(viewer, "v1/actions?limit=500", AnomalyJsonContext.Default.ActionPage, page => until([.. page.Items]));

    internal static async Task<TResult> WaitForAsync<TBody, TResult>(
        HttpClient client, string path, System.Text.Json.Serialization.Metadata.JsonTypeInfo<TBody> type, Func<TBody, TResult?> until)
        where TResult : class
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        TBody? last = default;
        while (DateTime.UtcNow < deadline)
        {
            last = await client.GetFromJsonAsync(path, type, Ct);
            if (last is not null && until(last) is { } result)
            {
                return result;
            }

            await Task.Delay(200, Ct);
        }

        throw new TimeoutException($"GET {path} never showed what the test waits for; last answer: {(last is null ? "none" : JsonSerializer.Serialize(last, type))}");
    }

    private Task<SiloServer> StartSiloAsync(bool allowlistAlice)
    {
        var yaml = Path.Combine(Path.GetTempPath(), "anomalyzt-e2e-" + Guid.NewGuid().ToString("N") + ".yaml");
        File.WriteAllText(yaml, $$"""
            version: e2e
            response:
              dry_run: false
              groups: { break-glass: [{{(allowlistAlice ? "\"" + Alice + "\"" : "\"root@corp.example\"")}}] }
              allowlist: { groups: [break-glass] }
              rules:
                - name: contain-human
                  risk_at_least: 40
                  identity_class: human
                  action: disable
                  ttl_minutes: 0.1
                  connectors: [scim, ldap]
            """);
        var s = scim.ConnectorOptions();
        var l = ldap.ConnectorOptions();
        const string subject = "^(?<user>[^@]+)@corp\\.example$";
        return SiloServer.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Runtime:DetectorsFile"] = yaml,
            ["Runtime:InventoryFile"] = Path.Combine(RepoPaths.Samples, "inventory.json"),
            ["Response:PollInterval"] = "00:00:00.100",
            ["Response:Executor:PollInterval"] = "00:00:00.200",
            ["Response:Connectors:scim:Type"] = s.Type,
            ["Response:Connectors:scim:BaseUrl"] = s.BaseUrl,
            ["Response:Connectors:scim:Token"] = s.Token,
            ["Response:Connectors:scim:SubjectPattern"] = subject,
            ["Response:Connectors:ldap:Type"] = l.Type,
            ["Response:Connectors:ldap:Host"] = l.Host,
            ["Response:Connectors:ldap:Port"] = l.Port.ToString(CultureInfo.InvariantCulture),
            ["Response:Connectors:ldap:BindDn"] = l.BindDn,
            ["Response:Connectors:ldap:BindPassword"] = l.BindPassword,
            ["Response:Connectors:ldap:UserDnTemplate"] = l.UserDnTemplate,
            ["Response:Connectors:ldap:SubjectPattern"] = subject,
        });
    }
}
