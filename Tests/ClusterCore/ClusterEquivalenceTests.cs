using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using AnomalyZT.Grains.Config;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.Cli;
using AnomalyZT.Silo.Security;
using AnomalyZT.Silo.Serialization;
using AnomalyZT.Tests.Cluster;
using AnomalyZT.Tests.Response;
using AnomalyZT.Tests.Silo;
using AnomalyZT.Tests.State;

namespace AnomalyZT.Tests.ClusterCore;

/// <summary>Three real silo processes on one RabbitMQ and one PostgreSQL: the samples are streamed in, one silo is
/// killed with SIGKILL mid-stream, and at the end the findings equal those of an embedded replay of the same input —
/// none lost, none doubled. Then a fourth silo joins and takes its share of the partitions.</summary>
public sealed class ClusterEquivalenceTests(PostgresFixture postgres, RabbitMqFixture rabbit)
    : IClassFixture<PostgresFixture>, IClassFixture<RabbitMqFixture>
{
    private const int Partitions = 16;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task KillingASiloMidStream_LosesAndDoublesNothing_AndANewSiloTakesItsShare()
    {
        var inputs = InputFiles.Resolve([RepoPaths.Samples], null);
        var inventory = CliCommands.LoadInventory(Path.Combine(RepoPaths.Samples, "inventory.json"));
        var (reference, _) = await ReplayCommand.RunAsync(inputs, DetectionConfig.Default, inventory, Partitions, TextWriter.Null, Ct);
        Assert.NotEmpty(reference);

        var schema = PostgresFixture.NewSchema();
        var prefix = "azt" + Guid.NewGuid().ToString("N")[..8] + ".p.";
        var work = Path.Combine(Path.GetTempPath(), "anomalyzt-cluster-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        var silos = new List<(PeerProcess Process, HttpClient Admin, int Port, string Id)>();
        try
        {
            for (var i = 1; i <= 3; i++)
            {
                silos.Add(await StartSiloAsync(work, schema, prefix, "s" + i.ToString(CultureInfo.InvariantCulture)));
            }

            await WaitAsync(async () => (await HeldAsync(schema)).Count == Partitions, "the three silos to hold every partition");

            // Stream the input in through silo 1; kill silo 2 while the partitions are still consuming it.
            var shipping = Shipper.ShipAsync(inputs, silos[0].Admin.BaseAddress!, SiloServer.ShipperKey, 60, Ct);
            await Task.Delay(500, Ct);
            var killed = Stopwatch.StartNew();
            await silos[1].Process.DisposeAsync(); // SIGKILL
            var shipped = await shipping;
            Assert.Equal(0, shipped.Rejected);
            await WaitAsync(async () => !(await HeldAsync(schema)).ContainsValue("s2") && (await HeldAsync(schema)).Count == Partitions,
                "the survivors to take over silo 2's partitions");
            var failover = killed.Elapsed;

            using (var close = await silos[0].Admin.PostAsync("v1/runtime/close-all", null, Ct))
            {
                Assert.True(close.IsSuccessStatusCode, await close.Content.ReadAsStringAsync(Ct));
            }

            var findings = await AllFindingsAsync(silos[0].Admin);
            Assert.Equal(findings.Count, findings.Select(f => f.Id).Distinct().Count());
            Assert.Equal(Key(reference), Key(findings));

            // A fourth silo joins and takes a fair share within a bounded time.
            var joined = Stopwatch.StartNew();
            silos.Add(await StartSiloAsync(work, schema, prefix, "s4"));
            await WaitAsync(async () => (await HeldAsync(schema)).Values.Count(o => o == "s4") >= Partitions / 3 - 1, "silo 4 to take its share");
            TestContext.Current.TestOutputHelper?.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"failover {failover.TotalSeconds:0.0} s, rebalance {joined.Elapsed.TotalSeconds:0.0} s, {findings.Count} findings"));
            await File.WriteAllTextAsync(Path.Combine(Path.GetTempPath(), "anomalyzt-cluster-times.txt"), string.Create(CultureInfo.InvariantCulture,
                $"failover_s={failover.TotalSeconds:0.0} rebalance_s={joined.Elapsed.TotalSeconds:0.0} findings={findings.Count}\n"), Ct);
        }
        finally
        {
            foreach (var s in silos)
            {
                s.Admin.Dispose();
                await s.Process.DisposeAsync();
            }
        }
    }

    private static List<string> Key(IEnumerable<Finding> findings) =>
        [.. findings.Select(f => string.Create(CultureInfo.InvariantCulture, $"{f.Id} {f.Observed:R} {f.Score:R} {f.Severity}")).Order(StringComparer.Ordinal)];

    private static async Task<List<Finding>> AllFindingsAsync(HttpClient client)
    {
        var all = new List<Finding>();
        string? cursor = null;
        while (true)
        {
            var page = await client.GetFromJsonAsync("v1/findings?limit=1000" + (cursor is null ? string.Empty : "&cursor=" + cursor), AnomalyJsonContext.Default.FindingStreamPage, Ct);
            if (page!.Items.Count == 0)
            {
                return all;
            }

            all.AddRange(page.Items.Where(f => f.EntityKind != EntityKind.Connector));
            cursor = page.NextCursor;
        }
    }

    private async Task<Dictionary<int, string>> HeldAsync(string schema)
    {
        var rows = await postgres.StringsAsync(
            $"SELECT partition::text || ' ' || owner FROM \"{schema}\".partition_leases WHERE owner <> '' AND expires_at > now() AND partition < {Partitions};", Ct);
        return rows.Select(r => r.Split(' ', 2)).ToDictionary(p => int.Parse(p[0], CultureInfo.InvariantCulture), p => p[1]);
    }

    private static async Task WaitAsync(Func<Task<bool>> condition, string what, int seconds = 90)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (Npgsql.PostgresException) when (DateTime.UtcNow < deadline)
            {
                // the schema is created by the first silo
            }

            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException($"waited {seconds} s for {what}");
            }

            await Task.Delay(250, Ct);
        }
    }

    private async Task<(PeerProcess, HttpClient, int, string)> StartSiloAsync(string work, string schema, string prefix, string id)
    {
        var port = PeerProcess.FreePort();
        var bus = rabbit.BusOptions();
        var env = new Dictionary<string, string>
        {
            ["ANOMALYZT_Urls"] = string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}"),
            ["ANOMALYZT_Runtime__Mode"] = "Cluster",
            ["ANOMALYZT_Runtime__Partitions"] = Partitions.ToString(CultureInfo.InvariantCulture),
            ["ANOMALYZT_Runtime__CheckpointInterval"] = "00:00:00.500",
            ["ANOMALYZT_Runtime__InventoryFile"] = Path.Combine(RepoPaths.Samples, "inventory.json"),
            ["ANOMALYZT_State__DataDirectory"] = Path.Combine(work, id),
            ["ANOMALYZT_State__Postgres__ConnectionString"] = postgres.ConnectionString,
            ["ANOMALYZT_State__Postgres__Schema"] = schema,
            ["ANOMALYZT_Cluster__SiloId"] = id,
            ["ANOMALYZT_Cluster__LeaseTtl"] = "00:00:04",
            ["ANOMALYZT_Cluster__BalanceInterval"] = "00:00:00.500",
            ["ANOMALYZT_Cluster__RabbitMq__Host"] = bus.Host,
            ["ANOMALYZT_Cluster__RabbitMq__Port"] = bus.Port.ToString(CultureInfo.InvariantCulture),
            ["ANOMALYZT_Cluster__RabbitMq__User"] = bus.User,
            ["ANOMALYZT_Cluster__RabbitMq__Password"] = bus.Password,
            ["ANOMALYZT_Cluster__RabbitMq__QueuePrefix"] = prefix,
            ["ANOMALYZT_Auth__Keys__0__Name"] = "shipper",
            ["ANOMALYZT_Auth__Keys__0__Role"] = Roles.Shipper,
            ["ANOMALYZT_Auth__Keys__0__Sha256"] = ApiKeyRegistry.Hash(SiloServer.ShipperKey),
            ["ANOMALYZT_Auth__Keys__1__Name"] = "admin",
            ["ANOMALYZT_Auth__Keys__1__Role"] = Roles.Admin,
            ["ANOMALYZT_Auth__Keys__1__Sha256"] = ApiKeyRegistry.Hash(SiloServer.AdminKey),
            ["Logging__LogLevel__Default"] = "Warning",
        };
        var process = PeerProcess.Start("dotnet", [Path.Combine(AppContext.BaseDirectory, "AnomalyZT.Silo.dll")], work, env);
        var client = new HttpClient { BaseAddress = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}/")), Timeout = TimeSpan.FromMinutes(3) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", SiloServer.AdminKey);
        await process.WaitForPortAsync(port, TimeSpan.FromSeconds(90), Ct);
        await WaitAsync(async () =>
        {
            using var ready = await client.GetAsync("readyz", Ct);
            return ready.IsSuccessStatusCode;
        }, $"silo {id} to be ready; output:\n{process.Output}");
        return (process, client, port, id);
    }
}
