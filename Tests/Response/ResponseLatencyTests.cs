using System.Globalization;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.Response;
using AnomalyZT.Silo.State;
using AnomalyZT.Tests.Silo;
using Microsoft.Extensions.DependencyInjection;

namespace AnomalyZT.Tests.Response;

/// <summary>A load run, not a timed test: rounds of risky identities go through a real silo to a real SCIM server and
/// a real OpenLDAP; every delivery must complete exactly once, and the finding → IdP-call-complete latencies are
/// written out (p50, p99) for the record. Nothing asserts on time.</summary>
public sealed class ResponseLatencyTests(ScimServerFixture scim, LdapServerFixture ldap)
    : IClassFixture<ScimServerFixture>, IClassFixture<LdapServerFixture>
{
    private const int Rounds = 8;

    private static readonly string[] Users = ["bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "oscar", "peggy", "trent", "walter"];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RoundsOfRiskyIdentities_AreEachDisabledOnceAtBothPeers_AndLatencyIsRecorded()
    {
        var yaml = Path.Combine(Path.GetTempPath(), "anomalyzt-latency-" + Guid.NewGuid().ToString("N") + ".yaml");
        await File.WriteAllTextAsync(yaml, """
            version: latency
            response:
              dry_run: false
              breaker: { max_actions: 100000, window_minutes: 1 }
              rules:
                - name: contain
                  risk_at_least: 40
                  action: disable
                  ttl_minutes: 0.005
                  connectors: [scim, ldap]
            """, Ct);
        var s = scim.ConnectorOptions();
        var l = ldap.ConnectorOptions();
        await using var silo = await SiloServer.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Runtime:DetectorsFile"] = yaml,
            ["Response:PollInterval"] = "00:00:01",
            ["Response:Executor:PollInterval"] = "00:00:00.100",
            ["Response:Connectors:scim:Type"] = s.Type,
            ["Response:Connectors:scim:BaseUrl"] = s.BaseUrl,
            ["Response:Connectors:scim:Token"] = s.Token,
            ["Response:Connectors:ldap:Type"] = l.Type,
            ["Response:Connectors:ldap:Host"] = l.Host,
            ["Response:Connectors:ldap:Port"] = l.Port.ToString(CultureInfo.InvariantCulture),
            ["Response:Connectors:ldap:BindDn"] = l.BindDn,
            ["Response:Connectors:ldap:BindPassword"] = l.BindPassword,
            ["Response:Connectors:ldap:UserDnTemplate"] = l.UserDnTemplate,
        });
        var store = silo.App.Services.GetRequiredService<IStateStore>();
        var responses = silo.App.Services.GetRequiredService<IResponseStore>();
        var responder = silo.App.Services.GetRequiredService<Responder>();
        for (var round = 0; round < Rounds; round++)
        {
            var findings = Users.SelectMany(u => new[]
            {
                Core.ResponseHarness.IdentityFinding(u, "failures", round * 60, Severity.High),
                Core.ResponseHarness.IdentityFinding(u, "requests", round * 60, Severity.High),
            }).ToArray();
            await store.CommitAsync(new Checkpoint([], findings, []), Ct);
            await responder.OnFindingsCommittedAsync(findings); // what the runtime does after its commit

            // Wait until this round is delivered and restored, so the next round is a new offence.
            var expected = (round + 1) * Users.Length * 2;
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (true)
            {
                var counts = await responses.CountActionsAsync(Ct);
                if (counts.GetValueOrDefault(ResponseActionState.Restored) >= expected)
                {
                    break;
                }

                Assert.True(DateTime.UtcNow < deadline, $"round {round}: only {string.Join(", ", counts.Select(c => $"{c.Key}={c.Value}"))} of {expected} restored");
                Assert.Equal(0, counts.GetValueOrDefault(ResponseActionState.Failed));
                await Task.Delay(50, Ct);
            }
        }

        var actions = await responses.QueryActionsAsync(new ActionQuery(null, null, 0, string.Empty, 1000), Ct);
        Assert.Equal(Rounds * Users.Length * 2, actions.Count);
        Assert.All(actions, a => Assert.Equal(2, a.Attempts)); // one delivery and one restore each, no retry
        foreach (var u in Users)
        {
            Assert.True(await scim.IsActiveAsync(u, Ct));
            Assert.False(await ldap.IsLockedAsync(u, Ct));
        }

        var report = string.Join(Environment.NewLine, actions.GroupBy(a => a.Connector).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g =>
        {
            var ms = g.Select(a => (double)(a.DeliveredAtMs - a.DetectedAtMs)).Order().ToArray();
            return string.Create(CultureInfo.InvariantCulture,
                $"{g.Key}: n={ms.Length} p50={Percentile(ms, 0.50):0} ms p99={Percentile(ms, 0.99):0} ms max={ms[^1]:0} ms");
        }));
        TestContext.Current.TestOutputHelper?.WriteLine(report);
        await File.WriteAllTextAsync(Path.Combine(Path.GetTempPath(), "anomalyzt-response-latency.txt"), report + Environment.NewLine, Ct);
    }


    private static double Percentile(double[] sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}
