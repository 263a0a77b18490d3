using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.Security;
using AnomalyZT.Silo.Serialization;
using AnomalyZT.Tests.Cluster;
using AnomalyZT.Tests.Response;
using AnomalyZT.Tests.Silo;
using AnomalyZT.Tests.State;

namespace AnomalyZT.Tests.ClusterCore;

/// <summary>Starts real silo processes in cluster mode on the test PostgreSQL and RabbitMQ, and reads what they did.</summary>
internal sealed class ClusterTestKit(PostgresFixture postgres, RabbitMqFixture rabbit, int partitions)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public string Schema { get; } = PostgresFixture.NewSchema();

    public string Prefix { get; } = "azt" + Guid.NewGuid().ToString("N")[..8] + ".p.";

    public string Work { get; } = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "anomalyzt-cluster-" + Guid.NewGuid().ToString("N"))).FullName;

    public static List<string> Key(IEnumerable<Finding> findings) =>
        [.. findings.Select(f => string.Create(CultureInfo.InvariantCulture, $"{f.Id} {f.Observed:R} {f.Score:R} {f.Severity}")).Order(StringComparer.Ordinal)];

    public static async Task<List<Finding>> AllFindingsAsync(HttpClient client)
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

    public async Task<Dictionary<int, string>> HeldAsync()
    {
        var rows = await postgres.StringsAsync(
            $"SELECT partition::text || ' ' || owner FROM \"{Schema}\".partition_leases WHERE owner <> '' AND expires_at > now() AND partition < {partitions};", Ct);
        return rows.Select(r => r.Split(' ', 2)).ToDictionary(p => int.Parse(p[0], CultureInfo.InvariantCulture), p => p[1]);
    }

    public static async Task WaitAsync(Func<Task<bool>> condition, string what, int seconds = 90)
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

    public async Task<(PeerProcess Process, HttpClient Admin, int Port, string Id)> StartSiloAsync(string id)
    {
        var port = PeerProcess.FreePort();
        var bus = rabbit.BusOptions();
        var env = new Dictionary<string, string>
        {
            ["ANOMALYZT_Urls"] = string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}"),
            ["ANOMALYZT_Runtime__Mode"] = "Cluster",
            ["ANOMALYZT_Runtime__Partitions"] = partitions.ToString(CultureInfo.InvariantCulture),
            ["ANOMALYZT_Runtime__CheckpointInterval"] = "00:00:00.500",
            ["ANOMALYZT_Runtime__InventoryFile"] = Path.Combine(RepoPaths.Samples, "inventory.json"),
            ["ANOMALYZT_State__DataDirectory"] = Path.Combine(Work, id),
            ["ANOMALYZT_State__Postgres__ConnectionString"] = postgres.ConnectionString,
            ["ANOMALYZT_State__Postgres__Schema"] = Schema,
            ["ANOMALYZT_Cluster__SiloId"] = id,
            ["ANOMALYZT_Cluster__LeaseTtl"] = "00:00:04",
            ["ANOMALYZT_Cluster__BalanceInterval"] = "00:00:00.500",
            ["ANOMALYZT_Cluster__RabbitMq__Host"] = bus.Host,
            ["ANOMALYZT_Cluster__RabbitMq__Port"] = bus.Port.ToString(CultureInfo.InvariantCulture),
            ["ANOMALYZT_Cluster__RabbitMq__User"] = bus.User,
            ["ANOMALYZT_Cluster__RabbitMq__Password"] = bus.Password,
            ["ANOMALYZT_Cluster__RabbitMq__QueuePrefix"] = Prefix,
            ["ANOMALYZT_Auth__Keys__0__Name"] = "shipper",
            ["ANOMALYZT_Auth__Keys__0__Role"] = Roles.Shipper,
            ["ANOMALYZT_Auth__Keys__0__Sha256"] = ApiKeyRegistry.Hash(SiloServer.ShipperKey),
            ["ANOMALYZT_Auth__Keys__1__Name"] = "admin",
            ["ANOMALYZT_Auth__Keys__1__Role"] = Roles.Admin,
            ["ANOMALYZT_Auth__Keys__1__Sha256"] = ApiKeyRegistry.Hash(SiloServer.AdminKey),
            ["Logging__LogLevel__Default"] = "Warning",
        };
        var process = PeerProcess.Start("dotnet", [Path.Combine(AppContext.BaseDirectory, "AnomalyZT.Silo.dll")], Work, env);
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
