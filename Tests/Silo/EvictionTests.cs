using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AnomalyZT.Silo.Runtime;

namespace AnomalyZT.Tests.Silo;

public sealed class EvictionTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 20, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task IdleGrainsOverBudget_AreDroppedAndReloadedWithTheirState()
    {
        var data = SiloServer.NewDataDirectory();
        try
        {
            await using var server = await SiloServer.StartAsync(data, new Dictionary<string, string?>
            {
                ["Runtime:Partitions"] = "1",
                ["Runtime:MaxGrainsPerPartition"] = "4",
            });
            var body = new StringBuilder();
            for (var i = 0; i < 20; i++)
            {
                for (var b = 0; b < 3; b++)
                {
                    body.Append(IngestApiTests.EnvoyLine(T0.AddMinutes(10 * b), "svc-" + i, 1000)).Append('\n');
                }
            }

            // A later event moves the clock past every bucket above, so those grains are idle and safe to drop.
            body.Append(IngestApiTests.EnvoyLine(T0.AddHours(2), "svc-late", 1000)).Append('\n');
            using var client = server.Client(SiloServer.ShipperKey);
            (await client.PostAsync("v1/ingest/envoy", new StringContent(body.ToString()), TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();
            await server.Runtime.FlushAsync(TestContext.Current.CancellationToken);

            var runtime = (EmbeddedRuntime)server.Runtime;
            var inMemory = runtime.QueueStates().Single().Grains;
            Assert.True(inMemory <= 4, $"{inMemory} grains in memory with a budget of 4");

            using var viewer = server.Client(SiloServer.ViewerKey);
            var entity = await viewer.GetFromJsonAsync<JsonElement>("v1/entities/identity/svc-3", TestContext.Current.CancellationToken);
            var requests = entity.GetProperty("entity").GetProperty("features").EnumerateArray().First();
            Assert.Equal(3, requests.GetProperty("closedBuckets").GetInt64());
        }
        finally
        {
            SiloServer.DeleteDirectory(data);
        }
    }
}
