using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.Cli;
using AnomalyZT.Silo.Response.Connectors;
using AnomalyZT.Silo.Security;
using AnomalyZT.Silo.Serialization;
using AnomalyZT.Tests.Response.Contracts;
using AnomalyZT.Tests.Silo;

namespace AnomalyZT.Tests.Response;

/// <summary>A real silo process is killed (SIGKILL) after it recorded actions and before any was executed; the
/// restarted silo delivers each exactly once. The deliveries go to a signed webhook whose receiver counts them by
/// idempotency key.</summary>
public sealed class ExecutorKillTests(ProviderStub receiver) : IClassFixture<ProviderStub>
{
    private const string HmacKey = "kill-test-hmac-key-0123456789";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task KillBetweenRecordAndExecute_GivesExactlyOneDeliveryAfterRestart()
    {
        receiver.Reset(_ => StubResponse.Empty(200));
        var work = Path.Combine(Path.GetTempPath(), "anomalyzt-kill-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        var yaml = Path.Combine(work, "detectors.yaml");
        await File.WriteAllTextAsync(yaml, """
            version: kill-test
            response:
              dry_run: false
              rules:
                - name: contain-human
                  risk_at_least: 40
                  identity_class: human
                  action: disable
                  connectors: [hook]
            """, Ct);

        List<ResponseAction> recorded;
        var port = PeerProcess.FreePort();
        await using (var first = StartSilo(work, yaml, port, executor: false))
        {
            using var client = await ConnectAsync(first, port);
            var inputs = InputFiles.Resolve([RepoPaths.Samples], null);
            var shipped = await Shipper.ShipAsync(inputs, client.BaseAddress!, SiloServer.ShipperKey, 600, Ct);
            Assert.Equal(0, shipped.Rejected);
            recorded = await ResponseEndToEndTests.WaitForAsync(client, a => a.Count > 0 && a.All(x => x.State == ResponseActionState.Queued) ? a : null);
            Assert.Empty(receiver.Requests);
        } // disposing the process handle kills it: SIGKILL, no drain, no last checkpoint

        port = PeerProcess.FreePort();
        await using var second = StartSilo(work, yaml, port, executor: true);
        using var again = await ConnectAsync(second, port);
        var done = await ResponseEndToEndTests.WaitForAsync(again,
            a => a.Count >= recorded.Count && a.All(x => x.State == ResponseActionState.Done) ? a : null);
        Assert.Equal(recorded.Select(a => a.Id).Order(StringComparer.Ordinal), done.Select(a => a.Id).Order(StringComparer.Ordinal));

        // Give a second delivery every chance to happen before counting.
        await Task.Delay(1500, Ct);
        var deliveries = receiver.Requests.GroupBy(r => r.Header(WebhookConnector.IdempotencyHeader) ?? "?").ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(recorded.Count, receiver.Requests.Count);
        Assert.All(recorded, a => Assert.Equal(1, deliveries.GetValueOrDefault(a.Id)));
        Assert.All(receiver.Requests, r => Assert.True(WebhookConnector.Verify(
            HmacKey, r.Header(WebhookConnector.TimestampHeader)!, r.Header(WebhookConnector.SignatureHeader)!, r.BodyBytes, DateTimeOffset.UtcNow)));
    }

    private static async Task<HttpClient> ConnectAsync(PeerProcess silo, int port)
    {
        var client = new HttpClient { BaseAddress = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}/")) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", SiloServer.ViewerKey);
        await silo.WaitForPortAsync(port, TimeSpan.FromSeconds(60), Ct);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                var health = await client.GetFromJsonAsync("readyz", AnomalyJsonContext.Default.HealthBody, Ct);
                if (health?.Status == "ok")
                {
                    return client;
                }
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
                // starting
            }

            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException("the silo process never became ready; output:\n" + silo.Output);
            }

            await Task.Delay(200, Ct);
        }
    }

    private PeerProcess StartSilo(string work, string yaml, int port, bool executor)
    {
        var silo = Path.Combine(AppContext.BaseDirectory, "AnomalyZT.Silo.dll");
        var env = new Dictionary<string, string>
        {
            ["ANOMALYZT_Urls"] = string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}"),
            ["ANOMALYZT_State__DataDirectory"] = Path.Combine(work, "data"),
            ["ANOMALYZT_Runtime__Partitions"] = "4",
            ["ANOMALYZT_Runtime__CheckpointInterval"] = "00:00:00.200",
            ["ANOMALYZT_Runtime__DetectorsFile"] = yaml,
            ["ANOMALYZT_Runtime__InventoryFile"] = Path.Combine(RepoPaths.Samples, "inventory.json"),
            ["ANOMALYZT_Response__PollInterval"] = "00:00:00.100",
            ["ANOMALYZT_Response__Executor__Enabled"] = executor ? "true" : "false",
            ["ANOMALYZT_Response__Executor__PollInterval"] = "00:00:00.200",
            ["ANOMALYZT_Response__Connectors__hook__Type"] = ConnectorTypes.Webhook,
            ["ANOMALYZT_Response__Connectors__hook__BaseUrl"] = receiver.Url + "/hook",
            ["ANOMALYZT_Response__Connectors__hook__HmacKey"] = HmacKey,
            ["ANOMALYZT_Auth__Keys__0__Name"] = "shipper",
            ["ANOMALYZT_Auth__Keys__0__Role"] = Roles.Shipper,
            ["ANOMALYZT_Auth__Keys__0__Sha256"] = ApiKeyRegistry.Hash(SiloServer.ShipperKey),
            ["ANOMALYZT_Auth__Keys__1__Name"] = "viewer",
            ["ANOMALYZT_Auth__Keys__1__Role"] = Roles.Viewer,
            ["ANOMALYZT_Auth__Keys__1__Sha256"] = ApiKeyRegistry.Hash(SiloServer.ViewerKey),
            ["Logging__LogLevel__Default"] = "Warning",
        };
        return PeerProcess.Start("dotnet", [silo], work, env);
    }
}
