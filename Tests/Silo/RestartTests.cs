using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace AnomalyZT.Tests.Silo;

public sealed class RestartTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 20, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Restart_KeepsBaselinesAndWarmupProgress()
    {
        var data = SiloServer.NewDataDirectory();
        try
        {
            string before;
            await using (var first = await SiloServer.StartAsync(data))
            {
                var lines = new StringBuilder();
                for (var i = 0; i < 12; i++)
                {
                    lines.Append(IngestApiTests.EnvoyLine(T0.AddMinutes(10 * i), "svc-r", 5000 + i)).Append('\n');
                }

                using var client = first.Client(SiloServer.ShipperKey);
                (await client.PostAsync("v1/ingest/envoy", new StringContent(lines.ToString()), TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();
                await first.Runtime.FlushAsync(TestContext.Current.CancellationToken);
                before = await EntityAsync(first);
                Assert.True(before.Contains("warming up: 10/24 buckets", StringComparison.Ordinal), before);
            }

            await using var second = await SiloServer.StartAsync(data);
            var after = await EntityAsync(second);
            Assert.Equal(before, after);
        }
        finally
        {
            SiloServer.DeleteDirectory(data);
        }
    }

    private static async Task<string> EntityAsync(SiloServer server)
    {
        using var viewer = server.Client(SiloServer.ViewerKey);
        var body = await viewer.GetFromJsonAsync<JsonElement>("v1/entities/identity/svc-r", TestContext.Current.CancellationToken);
        return body.GetProperty("entity").GetRawText();
    }
}
